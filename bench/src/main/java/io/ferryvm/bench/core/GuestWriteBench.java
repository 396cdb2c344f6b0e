package io.ferryvm.bench.core;

import io.ferryvm.core.Ticker;
import io.ferryvm.core.guest.GuestPrograms;
import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.machine.Binding;
import io.ferryvm.core.machine.CpuBinder;
import io.ferryvm.core.machine.GuestMemory;
import io.ferryvm.core.machine.Machine;
import io.ferryvm.core.machine.Vcpu;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Guest write throughput on a real vCPU thread, dirty logging off vs on: the ratio is the cost of
 * tracking. One operation = one guest page write (a step); each invocation runs 1M steps and, with
 * logging on, harvests the log once (as a pre-copy iteration would).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
public class GuestWriteBench {
    static final int STEPS = 1 << 20;

    @Param({"pagewalk", "random", "hotset"})
    public String program;

    @Param({"off", "on"})
    public String logging;

    private Machine machine;
    private Vcpu vcpu;
    private long limit;

    @Setup(Level.Trial)
    public void setUp() {
        long mem = 1L << 30;
        Workload w = switch (program) {
            case "pagewalk" -> new Workload.PageWalk(0, 512L << 20, 0);
            case "random" -> new Workload.RandomWrites(0, 1);
            default -> new Workload.HotSet(0, 256L << 20, 1.0, 0, 1);
        };
        machine = Machine.create("bench", GuestMemory.allocate(mem), GuestPrograms.create(w, mem, 1), Binding.NONE,
                CpuBinder.NOOP, Ticker.SYSTEM);
        vcpu = machine.vcpus().get(0);
        machine.setStepLimit(0);
        machine.start(false);
        if (logging.equals("on")) {
            machine.memory().dirtyLog().start(false);
        }
        // Touch all memory once so page faults are not measured.
        limit = (1L << 30) / 4096 * 2;
        runTo(limit);
    }

    private void runTo(long target) {
        machine.setStepLimit(target);
        while (vcpu.steps() < target) {
            LockSupport.parkNanos(20_000);
        }
    }

    @Benchmark
    @OperationsPerInvocation(STEPS)
    public long writes() {
        limit += STEPS;
        runTo(limit);
        if (logging.equals("on")) {
            return machine.memory().dirtyLog().harvest().count();
        }
        return limit;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        machine.close();
    }
}
