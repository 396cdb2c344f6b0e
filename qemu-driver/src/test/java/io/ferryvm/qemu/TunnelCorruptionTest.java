package io.ferryvm.qemu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.ferryvm.migration.FrameChannel;
import io.ferryvm.migration.TcpTransport;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tunnel's frames: round trips, seeded corruption that must always be caught, and a forged token. */
class TunnelCorruptionTest {
    @TempDir
    Path dir;

    /** A FrameChannel over a byte array: writes append, reads consume. */
    static final class BytesChannel implements FrameChannel {
        final ByteArrayOutputStream written = new ByteArrayOutputStream();
        ByteBuffer toRead = ByteBuffer.allocate(0);

        @Override
        public void write(ByteBuffer[] buffers) {
            for (ByteBuffer b : buffers) {
                byte[] a = new byte[b.remaining()];
                b.get(a);
                written.writeBytes(a);
            }
        }

        @Override
        public int read(ByteBuffer dst) {
            if (!toRead.hasRemaining()) {
                return -1;
            }
            int n = Math.min(dst.remaining(), Math.min(toRead.remaining(), 1000));
            ByteBuffer slice = toRead.slice().limit(n);
            dst.put(slice);
            toRead.position(toRead.position() + n);
            return n;
        }

        @Override
        public void close() {}

        @Override
        public String name() {
            return "bytes";
        }
    }

    /** A QEMU-like stream: mostly-zero pages with one byte set, some random runs. */
    private static byte[] stream(Random r, int size) {
        byte[] s = new byte[size];
        for (int i = 0; i < size; i += 4096) {
            s[i] = (byte) r.nextInt();
        }
        for (int k = 0; k < 20; k++) {
            int at = r.nextInt(size - 3000);
            for (int j = 0; j < 3000; j++) {
                s[at + j] = (byte) r.nextInt();
            }
        }
        return s;
    }

    private static byte[] encode(byte[] data, boolean lz4) throws IOException {
        BytesChannel ch = new BytesChannel();
        TunnelWire.Encoder enc = new TunnelWire.Encoder(ch, lz4);
        enc.hello(new byte[16]);
        for (int off = 0; off < data.length; off += 100_000) {
            enc.data(ByteBuffer.wrap(data, off, Math.min(100_000, data.length - off)));
        }
        enc.end();
        assertEquals(ch.written.size(), enc.wireBytes());
        return ch.written.toByteArray();
    }

    /** Decodes everything; returns the stream bytes delivered before the end or the first error. */
    private static byte[] decode(byte[] wire, QemuException[] error) {
        BytesChannel ch = new BytesChannel();
        ch.toRead = ByteBuffer.wrap(wire);
        TunnelWire.Decoder dec = new TunnelWire.Decoder(ch);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            TunnelWire.Frame f;
            boolean ended = false;
            while ((f = dec.next()) != null) {
                if (f.type() == TunnelWire.END) {
                    ended = true;
                    break;
                }
                if (f.type() != TunnelWire.HELLO) {
                    byte[] a = new byte[f.data().remaining()];
                    f.data().get(a);
                    out.writeBytes(a);
                }
            }
            if (!ended) {
                error[0] = new QemuException(QemuException.Kind.CORRUPT_STREAM, "no END");
            }
        } catch (QemuException e) {
            error[0] = e;
        } catch (IOException e) {
            fail("decoder threw " + e);
        }
        return out.toByteArray();
    }

    @Test
    void roundTripsWithAndWithoutLz4AndLz4Shrinks() throws IOException {
        byte[] data = stream(new Random(1), 1 << 20);
        for (boolean lz4 : new boolean[] {false, true}) {
            byte[] wire = encode(data, lz4);
            QemuException[] err = new QemuException[1];
            assertArrayEquals(data, decode(wire, err));
            assertEquals(null, err[0]);
            if (lz4) {
                assertTrue(wire.length < data.length / 2, "LZ4 wire " + wire.length + " for " + data.length);
            }
        }
    }

    @Test
    void seededCorruptionIsAlwaysCaughtAndNeverDeliversABadByte() throws IOException {
        Random r = new Random(42);
        byte[] data = stream(r, 600_000);
        for (boolean lz4 : new boolean[] {false, true}) {
            byte[] wire = encode(data, lz4);
            for (int i = 0; i < 300; i++) {
                byte[] bad = wire.clone();
                int kind = i % 3;
                if (kind == 0) {
                    int at = r.nextInt(bad.length);
                    bad[at] ^= (byte) (1 + r.nextInt(255));
                } else if (kind == 1) {
                    bad = Arrays.copyOf(bad, r.nextInt(bad.length));
                } else {
                    int at = r.nextInt(bad.length - 8);
                    bad[at] = (byte) 0xff;
                    bad[at + 1] = (byte) 0xff;
                    bad[at + 2] = (byte) 0xff;
                    bad[at + 3] = (byte) 0x7f;
                }
                if (Arrays.equals(bad, wire)) {
                    continue;
                }
                QemuException[] err = new QemuException[1];
                byte[] got = decode(bad, err);
                assertTrue(err[0] != null, "mutation " + i + " went unnoticed");
                assertEquals(QemuException.Kind.CORRUPT_STREAM, err[0].kind());
                // everything delivered before the error is an untouched prefix of the stream
                assertArrayEquals(Arrays.copyOf(data, got.length), got, "mutation " + i + " delivered a corrupt byte");
            }
        }
    }

    @Test
    void aChannelWithoutTheTokenNeverReachesQemu() throws Exception {
        Path qemuSock = dir.resolve("in.sock");
        ServerSocketChannel fakeQemu = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        fakeQemu.bind(UnixDomainSocketAddress.of(qemuSock));
        CompletableFuture<byte[]> received = CompletableFuture.supplyAsync(() -> {
            try (fakeQemu; SocketChannel c = fakeQemu.accept()) {
                ByteArrayOutputStream all = new ByteArrayOutputStream();
                ByteBuffer b = ByteBuffer.allocate(65536);
                while (c.read(b.clear()) >= 0) {
                    all.write(b.array(), 0, b.position());
                }
                return all.toByteArray();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        byte[] token = new byte[16];
        new Random(7).nextBytes(token);
        TcpTransport tcp = new TcpTransport();
        try (Tunnel.Receiver rx = new Tunnel.Receiver(tcp.listen("t"), token, qemuSock)) {
            // An intruder with a wrong token: dropped, and its data goes nowhere.
            try (FrameChannel intruder = tcp.connect(rx.endpoint())) {
                TunnelWire.Encoder enc = new TunnelWire.Encoder(intruder, false);
                enc.hello(new byte[16]);
                enc.data(ByteBuffer.wrap("evil".getBytes()));
                ByteBuffer probe = ByteBuffer.allocate(1);
                // dropped: end of stream, or a reset because the receiver closed with the intruder's data unread
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> {
                    try {
                        return intruder.read(probe.clear()) < 0;
                    } catch (java.io.IOException e) {
                        return true;
                    }
                });
            }
            byte[] data = stream(new Random(3), 300_000);
            try (FrameChannel ok = tcp.connect(rx.endpoint())) {
                TunnelWire.Encoder enc = new TunnelWire.Encoder(ok, true);
                enc.hello(token);
                enc.data(ByteBuffer.wrap(data, 0, 200_000));
                enc.data(ByteBuffer.wrap(data, 200_000, 100_000));
                enc.end();
                // the receiver acknowledges everything it delivered, the last acknowledgement covering the whole stream
                TunnelWire.Decoder acks = new TunnelWire.Decoder(ok);
                long acked = 0;
                TunnelWire.Frame f;
                while (acked < data.length && (f = acks.next()) != null) {
                    assertEquals(TunnelWire.ACK, f.type());
                    acked = f.data().getLong(0);
                }
                assertEquals(data.length, acked);
                Tunnel.Stats s = rx.done().get(30, java.util.concurrent.TimeUnit.SECONDS);
                assertEquals(data.length, s.streamBytes());
            }
            assertArrayEquals(data, received.get(30, java.util.concurrent.TimeUnit.SECONDS));
        }
    }
}
