package io.ferryvm.bench.core;

import io.ferryvm.core.Ticker;
import io.ferryvm.core.guest.GuestPrograms;
import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.machine.Binding;
import io.ferryvm.core.machine.CpuBinder;
import io.ferryvm.core.machine.DirtyBitmap;
import io.ferryvm.core.machine.GuestMemory;
import io.ferryvm.core.machine.Machine;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Harvest speed and zero-page scan speed over 4 GiB of guest memory, single-threaded. Divide 4 GiB by
 * the time per operation for GB/s of guest memory covered. Harvest includes the hand-over by two
 * (halted) vCPUs; dirty fractions are of pages.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
public class DirtyLogBench {
    static final long MEM = 4L << 30;

    @Param({"0.001", "0.1", "1.0"})
    public double dirtyFraction;

    private GuestMemory memory;
    private Machine machine;
    private long[] pages;

    @Setup(Level.Trial)
    public void setUp() {
        memory = GuestMemory.allocate(MEM);
        machine = Machine.create("bench", memory, GuestPrograms.create(new Workload.Idle(), MEM, 2), Binding.NONE,
                CpuBinder.NOOP, Ticker.SYSTEM);
        machine.start(false);
        memory.dirtyLog().start(false);
        int n = (int) (memory.pageCount() * dirtyFraction);
        pages = new SplittableRandom(1).longs(n, 0, memory.pageCount()).toArray();
    }

    @Setup(Level.Invocation)
    public void dirty() {
        for (long p : pages) {
            memory.putByte(p << 12, (byte) 1);
        }
    }

    @Benchmark
    public DirtyBitmap harvest() {
        return memory.dirtyLog().harvest();
    }

    @Benchmark
    public long zeroScanAll() {
        // Worst case for the scan on zero pages: every byte of every zero page is read.
        return memory.countZeroPages(0, memory.pageCount());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        machine.close();
    }
}
