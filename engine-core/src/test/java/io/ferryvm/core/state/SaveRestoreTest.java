package io.ferryvm.core.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.CoreException;
import io.ferryvm.core.Host;
import io.ferryvm.core.HostConfig;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmStatus;
import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.host.HostInventory;
import io.ferryvm.core.machine.Machine;
import io.ferryvm.core.machine.MachineState;
import io.ferryvm.core.testing.TestGuests;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Save and restore of a whole 1 GiB VM (virsh save/restore), and every way a save file can be bad:
 * truncated anywhere, a flipped byte anywhere, a newer format. A bad file is refused with a clear error
 * and the VM it was meant for is untouched.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SaveRestoreTest {
    private static final long GIB = 1L << 30;

    @TempDir
    static Path dir;
    private Path good;
    private VmSpec spec;
    private long savedDigest;
    private MachineState savedState;

    /** A 1 GiB guest: mixed content written by fill, then pagewalk, saved once for all tests. */
    @BeforeAll
    void saveOneGiBVm() {
        spec = VmSpec.of("big", 2, GIB, new Workload.Fill(40, 30, 3));
        try (Host h = host("src")) {
            h.define(spec);
            h.start(spec.id());
            Machine m = h.vm(spec.id()).machine();
            TestGuests.awaitSteps(m, GIB / 4096 / 2); // each vCPU fills its half, then halts
            h.pause(spec.id());
            savedDigest = m.memory().digest();
            savedState = m.saveState();
            good = dir.resolve("big.save");
            SaveFile.Stats st = h.save(spec.id(), good);
            assertEquals(VmStatus.STOPPED, h.info(spec.id()).status(), "save stops the VM");
            assertTrue(st.nonZeroPages() > GIB / 4096 / 2, "about 60% of pages hold data: " + st.nonZeroPages());
            assertTrue(st.fileBytes() < GIB, "zero pages are skipped and text compresses");
        }
    }

    private Host host(String name) {
        return Host.open(new HostConfig(name, dir.resolve(name), HostInventory.declared(name, 1, 2, 1, 4 * GIB), null, null));
    }

    @Test
    void restoreResumesTheGuestExactlyWhereItStopped() {
        try (Host h = host("dst-ok")) {
            h.restore(good, true);
            Machine m = h.vm(spec.id()).machine();
            assertEquals(VmStatus.PAUSED, h.info(spec.id()).status());
            assertEquals(savedDigest, m.memory().digest());
            assertEquals(savedState, m.saveState());
            h.resume(spec.id());
            assertEquals(VmStatus.RUNNING, h.info(spec.id()).status());
        }
    }

    @Test
    void truncatedFilesAreRefusedAndTheExistingVmIsUntouched() throws IOException {
        long size = Files.size(good);
        long[] cuts = {0, 20, 300, size / 2, size - 30, size - 1};
        try (Host h = host("dst-trunc")) {
            h.define(spec);
            for (long cut : cuts) {
                Path bad = dir.resolve("trunc-" + cut + ".save");
                copyPrefix(good, bad, cut);
                CoreException e = assertThrows(CoreException.class, () -> h.restore(bad, false), "cut at " + cut);
                assertEquals(CoreException.Kind.CORRUPT_STATE, e.kind(), "cut at " + cut + ": " + e.getMessage());
                assertTrue(e.getMessage().contains(bad.toString()), "names the file: " + e.getMessage());
                assertEquals(VmStatus.DEFINED, h.info(spec.id()).status(), "the VM is untouched");
                assertEquals(spec, h.vm(spec.id()).spec());
                Files.delete(bad);
            }
        }
    }

    @Test
    void corruptedBytesAreRefusedWherever() throws IOException {
        long size = Files.size(good);
        SplittableRandom r = new SplittableRandom(99);
        try (Host h = host("dst-corrupt")) {
            h.define(spec);
            h.start(spec.id()); // a running VM with this id: also untouched by a failed restore
            long before = h.info(spec.id()).steps();
            long[] offsets = new long[7];
            offsets[0] = 3; // magic
            offsets[1] = 30; // definition length
            for (int i = 2; i < offsets.length; i++) {
                offsets[i] = r.nextLong(60, size);
            }
            for (long off : offsets) {
                Path bad = dir.resolve("flip-" + off + ".save");
                Files.copy(good, bad);
                flip(bad, off);
                CoreException e = assertThrows(CoreException.class, () -> h.restore(bad, false), "flip at " + off);
                assertTrue(e.kind() == CoreException.Kind.CORRUPT_STATE || e.kind() == CoreException.Kind.UNSUPPORTED_VERSION
                        || e.kind() == CoreException.Kind.ILLEGAL_TRANSITION, "flip at " + off + ": " + e.kind() + " " + e.getMessage());
                assertEquals(VmStatus.RUNNING, h.info(spec.id()).status());
                Files.delete(bad);
            }
            assertTrue(h.info(spec.id()).steps() >= before);
        }
    }

    @Test
    void aNewerFormatIsRefusedWithAClearError() throws IOException {
        Path newer = dir.resolve("newer.save");
        Files.copy(good, newer);
        try (RandomAccessFile f = new RandomAccessFile(newer.toFile(), "rw")) {
            f.seek(8);
            f.writeShort(SaveFile.FORMAT.current() + 1);
        }
        try (Host h = host("dst-newer")) {
            CoreException e = assertThrows(CoreException.class, () -> h.restore(newer, false));
            assertEquals(CoreException.Kind.UNSUPPORTED_VERSION, e.kind());
            assertTrue(e.getMessage().contains("newer than this Ferry reads"), e.getMessage());
            assertTrue(!h.has(spec.id()), "nothing was defined from a refused file");
        }
    }

    private static void copyPrefix(Path from, Path to, long n) throws IOException {
        try (var in = Files.newInputStream(from); var out = Files.newOutputStream(to)) {
            byte[] buf = new byte[1 << 20];
            long left = n;
            while (left > 0) {
                int k = in.read(buf, 0, (int) Math.min(buf.length, left));
                out.write(buf, 0, k);
                left -= k;
            }
        }
    }

    private static void flip(Path p, long off) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.seek(off);
            int b = f.read();
            f.seek(off);
            f.write(b ^ 0x40);
        }
    }
}
