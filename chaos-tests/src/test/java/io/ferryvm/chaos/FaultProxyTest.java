package io.ferryvm.chaos;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.ferryvm.migration.Endpoint;
import io.ferryvm.migration.FrameChannel;
import io.ferryvm.migration.TcpTransport;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The fault proxy with the product's own SOCKS5 client (TcpTransport through a proxy): bytes pass as they
 * were, a flip changes exactly the byte asked for and only once, a cut ends the stream at exactly its offset.
 */
class FaultProxyTest {
    FaultProxy proxy;
    ServerSocket sink;

    @BeforeEach
    void start() throws IOException {
        proxy = new FaultProxy("127.0.0.1", new LoopbackNetwork(0));
        sink = new ServerSocket(0, 4, InetAddress.getLoopbackAddress());
    }

    @AfterEach
    void stop() throws IOException {
        proxy.close();
        sink.close();
    }

    /** Sends data through the proxy to the sink and returns what the sink received before the stream ended. */
    private byte[] through(byte[] data) throws Exception {
        CompletableFuture<byte[]> got = CompletableFuture.supplyAsync(() -> {
            try (Socket s = sink.accept(); InputStream in = s.getInputStream()) {
                ByteArrayOutputStream b = new ByteArrayOutputStream();
                in.transferTo(b);
                return b.toByteArray();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        FrameChannel ch = new TcpTransport("127.0.0.1", proxy.address()).connect(new Endpoint("tcp", "127.0.0.1:" + sink.getLocalPort()));
        try {
            ch.write(new ByteBuffer[] {ByteBuffer.wrap(data)});
        } catch (IOException cutShort) {
            // a truncating proxy closes under the writer
        }
        ch.close();
        await().atMost(Duration.ofSeconds(30)).until(got::isDone);
        return got.join();
    }

    private static byte[] data(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31);
        }
        return b;
    }

    @Test
    void passingChangesNothing() throws Exception {
        byte[] d = data(300_000);
        assertArrayEquals(d, through(d));
        assertEquals("127.0.0.1", proxy.connects().get(0).host(), "the CONNECT is remembered");
        assertEquals(d.length, proxy.bytesToTargets());
    }

    @Test
    void aFlipChangesOneByteOnce() throws Exception {
        byte[] d = data(100_000);
        proxy.set(new FaultProxy.Flip(70_001, 0x40));
        byte[] got = through(d);
        byte[] expected = d.clone();
        expected[70_001] ^= 0x40;
        assertArrayEquals(expected, got);
        assertEquals(1, proxy.fired());
        assertArrayEquals(d, through(d), "one-shot: the next stream passes untouched");
    }

    @Test
    void aCutEndsTheStreamAtItsOffset() throws Exception {
        byte[] d = data(100_000);
        proxy.set(new FaultProxy.Truncate(12_345));
        byte[] got = through(d);
        assertEquals(12_345, got.length);
        assertArrayEquals(java.util.Arrays.copyOf(d, 12_345), got);
    }
}
