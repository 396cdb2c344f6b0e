package io.ferryvm.qemu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The QMP client against a scripted fake QEMU: correlation, events, and every way a peer can misbehave. */
class QmpClientHostileInputTest {
    private static final String GREETING = "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}}, \"capabilities\": []}}";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** A fake QEMU: sends the greeting, answers qmp_capabilities, then lets the script answer each command. */
    private QmpClient connect(String greeting, BiConsumer<JsonNode, OutputStream> script, Duration timeout) throws Exception {
        Path sock = dir.resolve("q.sock");
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(sock));
        CompletableFuture.runAsync(() -> {
            try (server; SocketChannel peer = server.accept()) {
                OutputStream out = Channels.newOutputStream(peer);
                BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(peer), StandardCharsets.UTF_8));
                out.write((greeting + "\n").getBytes(StandardCharsets.UTF_8));
                String line;
                while ((line = in.readLine()) != null) {
                    JsonNode cmd = JSON.readTree(line);
                    if (cmd.path("execute").asText().equals("qmp_capabilities")) {
                        out.write(("{\"return\": {}, \"id\": \"" + cmd.path("id").asText() + "\"}\n").getBytes(StandardCharsets.UTF_8));
                    } else {
                        script.accept(cmd, out);
                    }
                }
            } catch (IOException e) {
                // the client hung up: the fake QEMU is done
            }
        });
        return QmpClient.open(SocketChannel.open(UnixDomainSocketAddress.of(sock)), "fake", timeout);
    }

    private static void send(OutputStream out, String s) {
        try {
            out.write((s + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void answersAreMatchedByIdAndEventsReachListeners() throws Exception {
        try (QmpClient c = connect(GREETING, (cmd, out) -> {
            String id = cmd.path("id").asText();
            // an event first, then the answer: the client must not take one for the other
            send(out, "{\"event\": \"STOP\", \"timestamp\": {\"seconds\": 5, \"microseconds\": 7}}");
            send(out, "{\"return\": {\"status\": \"paused\", \"echo\": \"" + cmd.path("execute").asText() + "\"}, \"id\": \"" + id + "\"}");
        }, Duration.ofSeconds(30))) {
            assertEquals("7.2.22", c.qemuVersion());
            CompletableFuture<QmpEvent> stop = c.nextEvent(e -> e.name().equals("STOP"));
            JsonNode r = c.execute("query-status", null);
            assertEquals("query-status", r.path("echo").asText());
            assertEquals(5_000_007L, c.await(stop, "STOP").timestampMicros());
        }
    }

    @Test
    void anErrorAnswerCarriesQemusClassAndText() throws Exception {
        try (QmpClient c = connect(GREETING, (cmd, out) -> send(out, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"no such disk\"}, \"id\": \""
                + cmd.path("id").asText() + "\"}"), Duration.ofSeconds(30))) {
            QemuException e = assertThrows(QemuException.class, () -> c.execute("blockdev-del", null));
            assertEquals(QemuException.Kind.QMP_ERROR, e.kind());
            assertTrue(e.getMessage().contains("blockdev-del failed: GenericError: no such disk"), e.getMessage());
            assertTrue(c.isOpen(), "an error answer is not a protocol fault");
        }
    }

    @Test
    void anAnswerToACommandNeverSentEndsTheConnection() throws Exception {
        try (QmpClient c = connect(GREETING, (cmd, out) -> send(out, "{\"return\": {}, \"id\": \"forged-42\"}"), Duration.ofSeconds(30))) {
            QemuException e = assertThrows(QemuException.class, () -> c.execute("query-status", null));
            assertEquals(QemuException.Kind.PROTOCOL, e.kind());
            assertTrue(e.getMessage().contains("never sent"), e.getMessage());
            QemuException after = assertThrows(QemuException.class, () -> c.execute("query-status", null));
            assertEquals(QemuException.Kind.DISCONNECTED, after.kind());
        }
    }

    @Test
    void malformedJsonAndNonObjectsAreProtocolErrors() throws Exception {
        for (String bad : new String[] {"{\"return\": {", "[1, 2, 3]", "{\"neither\": 1}"}) {
            try (QmpClient c = connect(GREETING, (cmd, out) -> send(out, bad), Duration.ofSeconds(30))) {
                QemuException e = assertThrows(QemuException.class, () -> c.execute("query-status", null));
                assertEquals(QemuException.Kind.PROTOCOL, e.kind(), bad + " -> " + e.getMessage());
            }
            java.nio.file.Files.deleteIfExists(dir.resolve("q.sock"));
        }
    }

    @Test
    void aGreetingThatIsNotOneIsRefused() {
        QemuException e = assertThrows(QemuException.class, () -> connect("{\"hello\": 1}", (cmd, out) -> { }, Duration.ofSeconds(30)));
        assertEquals(QemuException.Kind.PROTOCOL, e.kind());
    }

    @Test
    void silenceIsATimeoutAndAHangUpFailsThePendingCommand() throws Exception {
        try (QmpClient c = connect(GREETING, (cmd, out) -> { }, Duration.ofMillis(300))) {
            QemuException e = assertThrows(QemuException.class, () -> c.execute("query-status", null));
            assertEquals(QemuException.Kind.TIMEOUT, e.kind());
        }
        java.nio.file.Files.deleteIfExists(dir.resolve("q.sock"));
        try (QmpClient c = connect(GREETING, (cmd, out) -> {
            try {
                out.close();
            } catch (IOException ignored) {
                // closing is the point
            }
        }, Duration.ofSeconds(30))) {
            QemuException e = assertThrows(QemuException.class, () -> c.execute("quit", null));
            assertEquals(QemuException.Kind.DISCONNECTED, e.kind());
        }
    }

    @Test
    void anEndlessLineIsCutAtTheBound() throws Exception {
        try (QmpClient c = connect(GREETING, (cmd, out) -> {
            byte[] chunk = new byte[1 << 20];
            java.util.Arrays.fill(chunk, (byte) 'x');
            try {
                for (int i = 0; i <= QmpClient.MAX_LINE / chunk.length + 1; i++) {
                    out.write(chunk);
                }
            } catch (IOException ignored) {
                // the client closed once the line passed its bound
            }
        }, Duration.ofSeconds(60))) {
            QemuException e = assertThrows(QemuException.class, () -> c.execute("query-status", null));
            assertEquals(QemuException.Kind.PROTOCOL, e.kind());
            assertTrue(e.getMessage().contains("longer than"), e.getMessage());
        }
    }
}
