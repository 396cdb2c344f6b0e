package io.ferryvm.qemu;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.VmSpec;
import io.ferryvm.core.machine.Binding;
import io.ferryvm.ovf.OvfExporter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A QEMU guest's qcow2 disk exported as a streamOptimized VMDK in an OVA, imported again and booted to its banner. */
class OvaQemuTest {
    @TempDir
    static Path dir;
    static PageWalkGuest guest;

    @BeforeAll
    static void build() {
        QemuTestSupport.assumeQemu();
        guest = PageWalkGuest.build(dir.resolve("guest"), QemuTestSupport.WALK_START, QemuTestSupport.WALK_END);
    }

    @Test
    void exportedOvaImportsAndBootsToTheSerialBanner() throws Exception {
        Path qcow2 = dir.resolve("appliance.qcow2");
        assertEquals(0, new ProcessBuilder("qemu-img", "convert", "-f", "raw", "-O", "qcow2", guest.disk().toString(), qcow2.toString())
                .redirectErrorStream(true).start().waitFor());
        VmSpec spec = QemuTestSupport.spec("appliance", 1, qcow2, "qcow2");

        OvfExporter.Result exported = OvaExchange.exportOva(spec, dir.resolve("appliance.ova"), OvfExporter.Target.VMWARE, dir.resolve("scratch"));
        assertTrue(exported.members().stream().anyMatch(m -> m.endsWith(".vmdk")), exported.members().toString());
        assertTrue(exported.members().get(0).endsWith(".ovf"), "descriptor first in an OVA: " + exported.members());

        List<VmSpec> vms = OvaExchange.importPackage(dir.resolve("appliance.ova").toString(), dir.resolve("imported"));
        assertEquals(1, vms.size());
        VmSpec imported = vms.get(0);
        assertEquals(spec.memoryBytes(), imported.memoryBytes());
        assertTrue(Files.isRegularFile(Path.of(imported.disks().get(0).path())), imported.disks().toString());

        try (QemuDriver driver = new QemuDriver(QemuTestSupport.tcg(dir.resolve("run")))) {
            QemuGuest g = driver.launch(imported, Binding.NONE);
            await().atMost(Duration.ofSeconds(60)).until(() -> g.serialOutput().contains(PageWalkGuest.BANNER));
        }
    }
}
