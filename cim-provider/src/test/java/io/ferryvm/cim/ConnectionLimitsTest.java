package io.ferryvm.cim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Connection limits: requests per keep-alive connection and connections at once (a server of its own: it counts sockets). */
class ConnectionLimitsTest {
    @TempDir
    static Path dir;
    static TestServer server;

    @BeforeAll
    static void start() {
        server = new TestServer(dir, new InMemoryBackend("host1", "host2"), List.of(),
                new CimServerConfig.Limits(64 * 1024, 6, 3, Duration.ofSeconds(30), 4, 64));
    }

    @Test
    void aRefusedLoginClosesTheConnection() throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.httpPort())) {
            s.setSoTimeout(20_000);
            String req = CimProtocolTest.request(server, CimProtocolTest.ENUMERATE_HOSTS, "EnumerateInstanceNames", "root%2Fvirtualization", "")
                    .replaceAll("Authorization: Basic [A-Za-z0-9+/=]+\r\n", "");
            s.getOutputStream().write(req.getBytes(StandardCharsets.UTF_8));
            CimProtocolTest.Response r = CimProtocolTest.read(s.getInputStream());
            assertEquals(401, r.status());
            assertTrue(r.headers().toLowerCase().contains("connection: close"), r.headers());
            assertEquals(-1, s.getInputStream().read(), "clients retry with credentials on a new connection");
        }
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void keepAliveConnectionsCloseAfterTheirLimit() throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.httpPort())) {
            s.setSoTimeout(20_000);
            String req = CimProtocolTest.request(server, CimProtocolTest.ENUMERATE_HOSTS, "EnumerateInstanceNames", "root%2Fvirtualization", "");
            List<CimProtocolTest.Response> answers = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                s.getOutputStream().write(req.getBytes(StandardCharsets.UTF_8));
                answers.add(CimProtocolTest.read(s.getInputStream()));
            }
            assertEquals(List.of(200, 200, 200), answers.stream().map(r -> r.status()).toList());
            assertTrue(answers.get(2).headers().toLowerCase().contains("connection: close"), answers.get(2).headers());
            assertEquals(-1, s.getInputStream().read(), "the server closed the connection after its third request");
        }
    }

    @Test
    void connectionsBeyondTheLimitAreRefused() throws IOException {
        List<Socket> held = new ArrayList<>();
        try {
            for (int i = 0; i < 6; i++) { // the limit: each holds a connection the server accepted
                Socket s = new Socket(InetAddress.getLoopbackAddress(), server.httpPort());
                s.setSoTimeout(20_000);
                held.add(s);
                s.getOutputStream().write(CimProtocolTest.request(server, CimProtocolTest.ENUMERATE_HOSTS, "EnumerateInstanceNames", "root%2Fvirtualization", "")
                        .getBytes(StandardCharsets.UTF_8));
                assertEquals(200, CimProtocolTest.read(s.getInputStream()).status());
            }
            CimProtocolTest.Response refused = CimProtocolTest.rawExchange(server, CimProtocolTest.request(server, CimProtocolTest.ENUMERATE_HOSTS, "EnumerateInstanceNames", "root%2Fvirtualization", ""));
            assertEquals(503, refused.status());
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> {
            RawClient.Answer a = RawClient.admin(server).call("EnumerateInstanceNames", "root/virtualization",
                    RawClient.className("ClassName", "Ferry_HostSystem"));
            return a.status() == 200;
        });
    }

}
