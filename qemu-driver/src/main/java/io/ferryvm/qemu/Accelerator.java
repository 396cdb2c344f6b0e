package io.ferryvm.qemu;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;

/** What runs guest code: KVM (hardware virtualization) or TCG (QEMU's translator); AUTO picks KVM when /dev/kvm is usable. */
public enum Accelerator {
    AUTO, KVM, TCG;

    /** The QEMU name ("kvm", "tcg"). */
    public String qemuName() {
        if (this == AUTO) {
            throw new IllegalStateException("AUTO is resolved per host first");
        }
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * AUTO becomes KVM when the device is a character device that opens read-write (what QEMU needs), else
     * TCG; the others stay as they are. (A plain file at /dev/kvm, as seen on a container host, opens
     * read-write too, and QEMU then fails with "kvm version too old".)
     */
    public Accelerator resolve(Path kvmDevice) {
        if (this != AUTO) {
            return this;
        }
        try {
            int mode = (Integer) java.nio.file.Files.getAttribute(kvmDevice, "unix:mode");
            if ((mode & 0170000) != 0020000) { // S_IFMT, S_IFCHR
                return TCG;
            }
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return TCG;
        }
        try (RandomAccessFile f = new RandomAccessFile(kvmDevice.toFile(), "rw")) {
            return KVM;
        } catch (IOException | SecurityException e) {
            return TCG;
        }
    }
}
