package io.ferryvm.migration;

import static org.awaitility.Awaitility.await;

import io.ferryvm.core.Host;
import io.ferryvm.core.HostConfig;
import io.ferryvm.core.Ticker;
import io.ferryvm.core.Vm;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmStatus;
import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.host.HostInventory;
import io.ferryvm.core.machine.Machine;
import io.ferryvm.core.machine.MachineState;
import io.ferryvm.core.state.StateCodec;
import io.ferryvm.core.testing.TestGuests;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/** Two simulated hosts in one JVM, each with its migration service, over one transport. */
final class TwoHosts implements AutoCloseable {
    final Host source;
    final Host target;
    final Failpoints sourceFailpoints = Failpoints.none();
    final Failpoints targetFailpoints = Failpoints.none();
    final List<MigrationEvent> events = new CopyOnWriteArrayList<>();
    final MigrationService from;
    final MigrationService to;

    TwoHosts(Path dir, Transport transport) {
        this(dir, transport, Ticker.SYSTEM, StateCodec::encode);
    }

    /** The source host runs on sourceTicker and encodes the guest's state with sourceStateEncoder. */
    TwoHosts(Path dir, Transport transport, Ticker sourceTicker, Function<MachineState, byte[]> sourceStateEncoder) {
        source = Host.open(new HostConfig("src", dir.resolve("src"), HostInventory.declared("src", 1, 4, 1, 32L << 30), null,
                sourceTicker));
        target = Host.open(new HostConfig("dst", dir.resolve("dst"), HostInventory.declared("dst", 1, 4, 1, 32L << 30), null, null));
        from = new MigrationService(source, transport, sourceFailpoints, events::add, sourceStateEncoder);
        to = new MigrationService(target, transport, targetFailpoints, MigrationListener.NONE);
    }

    TwoHosts(Path dir) {
        this(dir, new InMemoryTransport());
    }

    UUID start(String name, int vcpus, long memory, Workload w) {
        VmSpec spec = VmSpec.of(name, vcpus, memory, w);
        source.define(spec);
        source.start(spec.id());
        return spec.id();
    }

    /** Waits until every vCPU of the source VM has run at least steps steps. */
    void awaitSteps(UUID vm, long steps) {
        Machine m = source.vm(vm).machine();
        await().atMost(TestGuests.LONG).until(() -> Arrays.stream(m.steps()).allMatch(s -> s >= steps));
    }

    MigrationReport migrate(UUID vm, MigrationRequest r) {
        return from.migrate(vm, r, to);
    }

    /** The guest runs on the source exactly as before and the target holds nothing of it. */
    void assertStillOnSource(UUID vm, VmStatus before) {
        Vm v = source.vm(vm);
        org.junit.jupiter.api.Assertions.assertEquals(before, v.status(), "source status");
        org.junit.jupiter.api.Assertions.assertFalse(target.has(vm), "target still holds the VM");
        if (before == VmStatus.RUNNING) {
            long s = v.machine().totalSteps();
            await().atMost(TestGuests.LONG).until(() -> v.machine().totalSteps() > s);
        }
    }

    @Override
    public void close() {
        source.close();
        target.close();
    }
}
