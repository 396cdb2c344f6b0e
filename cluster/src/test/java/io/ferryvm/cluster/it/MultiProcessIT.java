package io.ferryvm.cluster.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ferryvm.qemu.PageWalkGuest;
import io.ferryvm.qemu.QemuConfig;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three real Ferry node processes started from the packaged ferry.jar, on 127.0.0.1: a VM live-migrates
 * between processes with its memory checked against its replay; then the process holding an HA VM is
 * killed with SIGKILL and the cluster restarts the VM on a surviving host.
 */
class MultiProcessIT {
    static final ObjectMapper JSON = new ObjectMapper();
    final HttpClient http = HttpClient.newHttpClient();
    final Map<String, Process> nodes = new LinkedHashMap<>();
    final Map<String, Integer> apiPorts = new LinkedHashMap<>();

    Path logs;

    @AfterEach
    void killAll() throws IOException {
        nodes.values().forEach(p -> p.toHandle().destroyForcibly());
        // Keep the nodes' logs where a failed build can be read (the temp dir goes with the test).
        if (logs != null) {
            Path keep = Files.createDirectories(Path.of("target", "multiprocess-logs"));
            try (var s = Files.list(logs)) {
                for (Path f : s.filter(f -> f.toString().endsWith(".log")).toList()) {
                    Files.copy(f, keep.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    void startNode(String name, int port, int seedPort, Path dir) throws IOException {
        startNode(name, port, seedPort, dir, List.of("--topology", "2x4x2@4G"));
    }

    void startNode(String name, int port, int seedPort, Path dir, List<String> extra) throws IOException {
        Path jar = Path.of(System.getProperty("ferry.jar", "target/ferry.jar"));
        assumeTrue(Files.exists(jar), "ferry.jar not packaged at " + jar);
        int api = freePort();
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
                "-jar", jar.toString(), "node", "--name", name, "--port", String.valueOf(port), "--seed", "127.0.0.1:" + seedPort,
                "--state-dir", dir.resolve(name).toString(), "--api-port", String.valueOf(api), "--stable-after", "3"));
        cmd.addAll(extra);
        logs = dir;
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve(name + ".log").toFile());
        pb.environment().put("FERRY_QEMU_ACCEL", "tcg"); // this machine's /dev/kvm may be a nested module slower than TCG
        Process p = pb.start();
        nodes.put(name, p);
        apiPorts.put(name, api);
    }

    JsonNode call(String node, String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + apiPorts.get(node) + path))
                .timeout(Duration.ofMinutes(2));
        b = body == null ? b.method(method, HttpRequest.BodyPublishers.noBody())
                : b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() >= 400) {
            throw new AssertionError(method + " " + path + " -> " + r.statusCode() + " " + r.body());
        }
        return r.body().isBlank() ? JSON.nullNode() : JSON.readTree(r.body());
    }

    long hostsUp(String via) throws Exception {
        long n = 0;
        for (JsonNode h : call(via, "GET", "/api/hosts", null)) {
            n += h.get("up").asBoolean() ? 1 : 0;
        }
        return n;
    }

    @Test
    void migrateBetweenProcessesThenKillNineAndHaRestart(@TempDir Path dir) throws Exception {
        int p1 = freePort();
        int p2 = freePort();
        int p3 = freePort();
        startNode("host1", p1, p1, dir);
        startNode("host2", p2, p1, dir);
        startNode("host3", p3, p1, dir);
        // Every node's API answers and sees all three hosts (a node may report before its API is bound).
        for (String n : nodes.keySet()) {
            await().atMost(Duration.ofMinutes(3)).ignoreExceptions().until(() -> hostsUp(n) == 3);
        }

        String ha = "{\"name\":\"mp\",\"vcpus\":1,\"memory\":\"32M\",\"ha\":\"RESTART\",\"workload\":{\"program\":\"pagewalk\","
                + "\"offset\":0,\"length\":0,\"dirtyRateMiBps\":8}}";
        String keep = "{\"name\":\"keep\",\"vcpus\":1,\"memory\":\"16M\",\"workload\":{\"program\":\"random\",\"dirtyRateMiBps\":2,\"seed\":4}}";
        assertEquals("host2", call("host1", "POST", "/api/vms?start=true&host=host2", ha).get("host").asText());
        assertEquals("host1", call("host1", "POST", "/api/vms?start=true&host=host1", keep).get("host").asText());
        await().atMost(Duration.ofMinutes(1)).until(() -> call("host1", "GET", "/api/vms/mp", null).get("info").get("steps").asLong() > 0);

        // Live migration between two processes, the guest checked against its replay afterwards.
        String id = call("host2", "POST", "/api/migrations", "{\"vm\":\"mp\",\"to\":\"host3\"}").get("migrationId").asText();
        await().atMost(Duration.ofMinutes(2)).until(() -> call("host1", "GET", "/api/migrations/" + id, null).hasNonNull("summary"));
        JsonNode s = call("host1", "GET", "/api/migrations/" + id, null).get("summary");
        assertTrue(s.get("success").asBoolean(), s.toString());
        await().atMost(Duration.ofMinutes(1)).until(() -> call("host1", "GET", "/api/vms/mp", null).get("host").asText().equals("host3"));
        JsonNode check = call("host1", "POST", "/api/vms/mp/check", null);
        assertTrue(check.get("ok").asBoolean(), check.toString());

        // kill -9 the process that holds it: the cluster downs host3 and restarts the VM elsewhere.
        nodes.get("host3").toHandle().destroyForcibly();
        nodes.get("host3").waitFor();
        await().atMost(Duration.ofMinutes(2)).ignoreExceptions().until(() -> hostsUp("host1") == 2);
        await().atMost(Duration.ofMinutes(2)).ignoreExceptions().until(() -> {
            JsonNode v = call("host1", "GET", "/api/vms/mp", null);
            return v.get("placement").asText().equals("ACTIVE") && v.get("info").get("status").asText().equals("RUNNING");
        });
        String now = call("host1", "GET", "/api/vms/mp", null).get("host").asText();
        assertNotEquals("host3", now);
        assertEquals("RUNNING", call("host2", "GET", "/api/vms/keep", null).get("info").get("status").asText());
        assertTrue(call("host1", "POST", "/api/vms/mp/check", null).get("ok").asBoolean());
    }

    /**
     * Two {@code ferry node --hypervisor qemu} processes on this machine's real topology: a real QEMU guest
     * (the page-walk boot sector) defined and started through the REST API on one, live-migrated to the other
     * (tunnelled through Ferry's channel with LZ4), runs there without rebooting, placed and pinned by that
     * node; the source process has no QEMU left.
     */
    @Test
    void aQemuGuestMigratesBetweenTwoQemuNodeProcesses(@TempDir Path dir) throws Exception {
        assumeTrue(QemuConfig.locateBinary().toFile().canExecute(), "qemu-system-x86_64 not installed: skipped");
        assumeTrue(PageWalkGuest.toolsInstalled(), "as/ld (binutils) not installed: skipped");
        PageWalkGuest guest = PageWalkGuest.build(dir.resolve("guest"), 1L << 20, 24L << 20);
        int p1 = freePort();
        int p2 = freePort();
        startNode("q1", p1, p1, dir, List.of("--hypervisor", "qemu"));
        startNode("q2", p2, p1, dir, List.of("--hypervisor", "qemu"));
        for (String n : nodes.keySet()) {
            await().atMost(Duration.ofMinutes(3)).ignoreExceptions().until(() -> hostsUp(n) == 2);
        }
        String vm = "{\"name\":\"walker\",\"vcpus\":1,\"memory\":\"32M\",\"disks\":[{\"name\":\"boot\",\"path\":\""
                + guest.disk() + "\",\"capacityBytes\":1048576,\"format\":\"raw\",\"bus\":\"virtio\",\"readOnly\":false}]}";
        assertEquals("q1", call("q1", "POST", "/api/vms?start=true&host=q1", vm).get("host").asText());
        await().atMost(Duration.ofMinutes(1)).until(() -> call("q2", "GET", "/api/vms/walker", null).get("info").get("serialTail").asText()
                .contains(PageWalkGuest.BANNER));
        assertEquals(1, qemuUnder("q1"));

        String id = call("q2", "POST", "/api/migrations", "{\"vm\":\"walker\",\"to\":\"q2\"}").get("migrationId").asText();
        await().atMost(Duration.ofMinutes(2)).until(() -> call("q1", "GET", "/api/migrations/" + id, null).hasNonNull("summary"));
        JsonNode s = call("q1", "GET", "/api/migrations/" + id, null).get("summary");
        assertTrue(s.get("success").asBoolean(), s.toString());
        assertTrue(s.get("wireBytes").asLong() * 4 < s.get("guestBytes").asLong(), "LZ4 in the tunnel: " + s);
        await().atMost(Duration.ofMinutes(1)).until(() -> {
            JsonNode v = call("q1", "GET", "/api/vms/walker", null);
            return v.get("host").asText().equals("q2") && v.get("info").get("status").asText().equals("RUNNING");
        });
        // The target's serial console is its own: the walker's passes, and no second banner (no reboot).
        await().atMost(Duration.ofMinutes(1)).until(() -> call("q1", "GET", "/api/vms/walker", null).get("info").get("serialTail").asText()
                .contains("B"));
        JsonNode info = call("q1", "GET", "/api/vms/walker", null).get("info");
        assertFalse(info.get("serialTail").asText().contains(PageWalkGuest.BANNER), info.toString());
        assertTrue(info.get("bindingApplied").asBoolean(), "placed and pinned by q2: " + info);
        assertEquals(0, qemuUnder("q1"), "the source's QEMU is gone");
        assertEquals(1, qemuUnder("q2"));
    }

    private long qemuUnder(String node) {
        return nodes.get(node).toHandle().descendants().filter(p -> p.info().command().orElse("").contains("qemu-system")).count();
    }
}
