package io.ferryvm.core.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.ferryvm.core.Ticker;
import io.ferryvm.core.machine.Binding;
import io.ferryvm.core.machine.CpuBinder;
import io.ferryvm.core.machine.GuestMemory;
import io.ferryvm.core.machine.Machine;
import io.ferryvm.core.machine.MachineState;
import io.ferryvm.core.state.SaveFile;
import io.ferryvm.core.testing.TestGuests;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Same program, seed and step count => same memory digest: the oracle every migration test relies on.
 * Also when the run is paused and resumed, or saved to a file and restored, in the middle.
 */
class DeterminismTest {
    private static final long MEM = 32L << 20;

    static Stream<Arguments> workloads() {
        return Stream.of(
                Arguments.of(new Workload.PageWalk(1 << 20, 16L << 20, 0), 2, 50_000L),
                Arguments.of(new Workload.HotSet(0, 8L << 20, 1.0, 0, 7), 2, 60_000L),
                Arguments.of(new Workload.RandomWrites(0, 11), 3, 40_000L),
                Arguments.of(new Workload.Fill(40, 30, 5), 2, 3_000L));
    }

    @ParameterizedTest
    @MethodSource("workloads")
    void sameSeedAndStepsGiveTheSameMemory(Workload w, int vcpus, long steps) {
        long a = TestGuests.replayDigest(w, MEM, vcpus, steps);
        long b = TestGuests.replayDigest(w, MEM, vcpus, steps);
        assertEquals(a, b);
        assertNotEquals(a, TestGuests.replayDigest(w, MEM, vcpus, steps / 2), "the digest depends on the step count");
    }

    @ParameterizedTest
    @MethodSource("workloads")
    void pauseAndResumeInTheMiddleChangeNothing(Workload w, int vcpus, long steps) {
        long expected = TestGuests.replayDigest(w, MEM, vcpus, steps);
        try (Machine m = TestGuests.machine("pausing", w, MEM, vcpus)) {
            m.setStepLimit(steps);
            m.start(false);
            for (int i = 0; i < 5; i++) {
                m.pause();
                m.resume();
            }
            TestGuests.awaitSteps(m, steps);
            m.pause();
            assertEquals(expected, m.memory().digest());
        }
    }

    @ParameterizedTest
    @MethodSource("workloads")
    void saveAndRestoreInTheMiddleChangeNothing(Workload w, int vcpus, long steps, @TempDir Path dir) {
        long expected = TestGuests.replayDigest(w, MEM, vcpus, steps);
        Path file = dir.resolve("mid.save");
        try (Machine m = TestGuests.machine("saving", w, MEM, vcpus)) {
            TestGuests.runTo(m, steps / 3);
            m.pause();
            SaveFile.write(file, new byte[0], m.saveState(), m.memory());
        }
        SaveFile.Loaded loaded = SaveFile.read(file, GuestMemory::allocate);
        MachineState state = loaded.state();
        try (Machine m = Machine.restore("restored", loaded.memory(), GuestPrograms.create(w, MEM, vcpus), state,
                Binding.NONE, CpuBinder.NOOP, Ticker.SYSTEM)) {
            TestGuests.runTo(m, steps);
            m.pause();
            assertEquals(expected, m.memory().digest());
        }
    }
}
