package io.ferryvm.bench.core;

import io.ferryvm.core.Ticker;
import io.ferryvm.core.guest.GuestPrograms;
import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.machine.Binding;
import io.ferryvm.core.machine.CpuBinder;
import io.ferryvm.core.machine.GuestMemory;
import io.ferryvm.core.machine.Machine;
import io.ferryvm.core.machine.MachineState;
import io.ferryvm.core.state.SaveFile;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
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
 * Save and restore of a 1 GiB guest (mixed content: 40% zero, 30% code/data-like, 30% random pages, or
 * all random) against a plain copy of a file holding the same raw memory image, in the same run.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
public class SaveRestoreBench {
    static final long MEM = 1L << 30;

    @Param({"mixed", "random"})
    public String content;

    private Machine machine;
    private MachineState state;
    private Path dir;
    private Path image;
    private Path saved;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        Workload fill = content.equals("mixed") ? new Workload.Fill(40, 30, 1) : new Workload.Fill(0, 0, 1);
        machine = Machine.create("bench", GuestMemory.allocate(MEM), GuestPrograms.create(fill, MEM, 2), Binding.NONE,
                CpuBinder.NOOP, Ticker.SYSTEM);
        machine.start(false);
        long perVcpu = MEM / 4096 / 2;
        while (machine.vcpus().stream().anyMatch(v -> v.steps() < perVcpu)) {
            LockSupport.parkNanos(1_000_000);
        }
        machine.pause();
        state = machine.saveState();
        dir = Files.createTempDirectory("ferry-bench-save");
        image = dir.resolve("raw.img");
        try (OutputStream out = Files.newOutputStream(image)) {
            byte[] page = new byte[4096];
            for (long p = 0; p < machine.memory().pageCount(); p++) {
                machine.memory().readPage(p, page, 0);
                out.write(page);
            }
        }
        saved = dir.resolve("vm.save");
        SaveFile.write(saved, new byte[0], state, machine.memory());
    }

    @Benchmark
    public Path baselineFileCopy() throws IOException {
        Path copy = dir.resolve("copy.img");
        Files.copy(image, copy, StandardCopyOption.REPLACE_EXISTING);
        return copy;
    }

    /** The same copy made durable, as a save file is (fsync before it counts as written). */
    @Benchmark
    public Path baselineFileCopySynced() throws IOException {
        Path copy = dir.resolve("copy.img");
        Files.copy(image, copy, StandardCopyOption.REPLACE_EXISTING);
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(copy, java.nio.file.StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        return copy;
    }

    /** Reading the raw image back into fresh guest memory: the baseline for restore. */
    @Benchmark
    public GuestMemory baselineImageRead() throws IOException {
        GuestMemory m = GuestMemory.allocate(MEM);
        try (java.io.InputStream in = Files.newInputStream(image)) {
            byte[] buf = new byte[1 << 20];
            long addr = 0;
            for (int n = in.readNBytes(buf, 0, buf.length); n > 0; n = in.readNBytes(buf, 0, buf.length)) {
                m.write(addr, buf, 0, n);
                addr += n;
            }
        }
        m.close();
        return m;
    }

    @Benchmark
    public SaveFile.Stats save() {
        return SaveFile.write(saved, new byte[0], state, machine.memory());
    }

    @Benchmark
    public SaveFile.Stats restore() {
        SaveFile.Loaded l = SaveFile.read(saved, GuestMemory::allocate);
        l.memory().close();
        return l.stats();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        machine.close();
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
