package io.ferryvm.qemu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.CoreException;
import io.ferryvm.core.HostConfig;
import io.ferryvm.core.HypervisorDriver;
import io.ferryvm.core.host.HostInventory;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The per-host selection hook: "qemu" finds this driver on the class path, the built-in stays the default, typos are named. */
class DriverSelectionTest {
    @TempDir
    Path dir;

    @Test
    void hostsSelectTheirDriverByName() {
        HostConfig host = new HostConfig("h1", dir, HostInventory.declared("h1", 1, 2, 1, 1L << 30), null, null);
        assertEquals(Optional.empty(), HypervisorDriver.open(null, host).map(HypervisorDriver::name));
        assertEquals(Optional.empty(), HypervisorDriver.open("builtin", host).map(HypervisorDriver::name));
        try (HypervisorDriver d = HypervisorDriver.open("qemu", host).orElseThrow()) {
            assertEquals("qemu", d.name());
            assertTrue(d.accelerator().equals("kvm") || d.accelerator().equals("tcg"), d.accelerator());
        }
        CoreException e = assertThrows(CoreException.class, () -> HypervisorDriver.open("qemu-kvm", host));
        assertTrue(e.getMessage().contains("[builtin, qemu]"), e.getMessage());
    }

    @Test
    void autoTakesKvmOnlyFromACharacterDeviceThatOpensReadWrite() throws java.io.IOException {
        java.nio.file.Path plain = java.nio.file.Files.createFile(dir.resolve("kvm"));
        assertEquals(Accelerator.TCG, Accelerator.AUTO.resolve(plain), "a plain file opens read-write but is no KVM");
        assertEquals(Accelerator.TCG, Accelerator.AUTO.resolve(dir.resolve("missing")));
        // /dev/null: a character device that opens read-write, the shape of a usable /dev/kvm
        assertEquals(Accelerator.KVM, Accelerator.AUTO.resolve(Path.of("/dev/null")));
        assertEquals(Accelerator.TCG, Accelerator.TCG.resolve(Path.of("/dev/null")));
    }
}
