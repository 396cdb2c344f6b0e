package io.ferryvm.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.DiskSpec;
import io.ferryvm.core.NicSpec;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmSpecJson;
import io.ferryvm.core.guest.Workload;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ferry ovf export, inspect, import, validate and env, run as a user would. */
class OvfCommandTest {
    @TempDir
    Path dir;

    private String run(int expectedExit, String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (PrintStream p = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            System.setOut(p);
            System.setErr(p);
            int rc = Ferry.execute(args);
            p.flush();
            assertEquals(expectedExit, rc, () -> String.join(" ", args) + " printed: " + buf);
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void exportInspectImportValidateEnv() throws Exception {
        Path raw = dir.resolve("root.raw");
        byte[] data = new byte[2 << 20];
        new Random(1).nextBytes(data);
        Files.write(raw, data);
        VmSpec vm = new VmSpec(UUID.randomUUID(), "cli-vm", 2, 256L << 20, new Workload.Idle(), null,
                List.of(new DiskSpec("root", raw.toString(), data.length, "raw", "virtio", false)),
                List.of(new NicSpec("nic0", "lan", "", "virtio")), VmSpec.HaPolicy.NONE, "linux", Map.of());
        Path json = dir.resolve("vm.json");
        Files.write(json, VmSpecJson.toJson(vm));
        Path ova = dir.resolve("vm.ova");
        String exported = run(0, "ovf", "export", json.toString(), "-o", ova.toString(), "--ovf-version", "1");
        assertTrue(exported.contains("exported 1 VM(s) to " + ova), exported);
        String inspect = run(0, "ovf", "inspect", ova.toString());
        assertTrue(inspect.contains("OVF 1.1") && inspect.contains("VM cli-vm (VirtualSystem cli-vm): 2 vCPU, 256.0 MiB"), inspect);
        String imported = run(0, "ovf", "import", ova.toString(), dir.resolve("in").toString(), "--require-manifest");
        assertTrue(imported.contains("manifest: [SHA1], 2 entries verified"), imported);
        assertTrue(Files.isRegularFile(dir.resolve("in/vms/cli-vm.json")));
        String again = run(1, "ovf", "import", ova.toString(), dir.resolve("in").toString());
        assertTrue(again.contains("ferry: ") && again.contains("already exists"), again);
        String valid = run(0, "ovf", "validate", ova.toString());
        assertTrue(valid.contains("0 error(s)"), valid);
        Path env = dir.resolve("ovf-env.xml");
        run(0, "ovf", "env", ova.toString(), "-o", env.toString());
        assertTrue(Files.readString(env).contains("oe:id=\"cli-vm\""));
    }

    @Test
    void validateNamesLineAndColumn() throws Exception {
        Path bad = dir.resolve("bad.ovf");
        Files.writeString(bad, """
                <?xml version="1.0"?>
                <Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1">
                  <References><File ovf:id="f" ovf:href="a.vmdk" ovf:size="-5"/></References>
                  <VirtualSystem ovf:id="x"><Info>i</Info><VirtualHardwareSection><Info>h</Info></VirtualHardwareSection></VirtualSystem>
                </Envelope>
                """);
        String out = run(1, "ovf", "validate", bad.toString());
        assertTrue(out.contains("bad.ovf:3:") && out.contains("error: File f has a negative ovf:size -5"), out);
    }
}
