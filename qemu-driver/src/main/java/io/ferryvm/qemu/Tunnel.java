package io.ferryvm.qemu;

import io.ferryvm.migration.Endpoint;
import io.ferryvm.migration.FrameChannel;
import io.ferryvm.migration.Transport;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.LockSupport;

/**
 * Tunnelled migration's data plane (libvirt's VIR_MIGRATE_TUNNELLED, with Ferry's framing): the source
 * QEMU migrates into a unix socket Ferry listens on; Ferry frames the bytes (LZ4 per chunk, CRC32C) onto a
 * channel of the migration module's {@link Transport}; the target Ferry checks the HELLO token, decodes
 * and writes the bytes into the target QEMU's {@code -incoming} unix socket.
 *
 * <p>Implementation notes: one thread per side, blocking I/O end to end, so backpressure is the sockets'
 * own: a slow link (or the rate limit) slows Ferry's reads, which slows QEMU's writes, and QEMU's
 * bandwidth estimate - hence its switch-over decision - sees the tunnel's real rate. The stream is
 * one-way (QEMU's return path is not carried), which is why post-copy and multifd are refused here.
 */
final class Tunnel {
    /** What one side moved: QEMU stream bytes and Ferry wire bytes (headers included). */
    record Stats(long streamBytes, long wireBytes) {}

    private Tunnel() {}

    /** Source side: listens on a unix socket for the source QEMU and forwards its stream to the target. */
    static final class Sender implements AutoCloseable {
        private final ServerSocketChannel server;
        private final Path socket;
        private final Transport transport;
        private final Endpoint target;
        private final byte[] token;
        private final boolean lz4;
        private final long bytesPerSecond;
        private final CompletableFuture<Stats> done = new CompletableFuture<>();
        private volatile SocketChannel qemu;
        private volatile FrameChannel channel;
        private final Object window = new Object();
        private long acked;
        private boolean ackerDone;

        Sender(Path socket, Transport transport, Endpoint target, byte[] token, boolean lz4, long bytesPerSecond) throws IOException {
            this.socket = socket;
            this.transport = transport;
            this.target = target;
            this.token = token.clone();
            this.lz4 = lz4;
            this.bytesPerSecond = bytesPerSecond;
            Files.deleteIfExists(socket);
            this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(socket));
            Thread t = new Thread(this::run, "tunnel-send-" + socket.getFileName());
            t.setDaemon(true);
            t.start();
        }

        /** The URI the source QEMU's migrate command takes. */
        String qemuUri() {
            return "unix:" + socket;
        }

        CompletableFuture<Stats> done() {
            return done;
        }

        private void run() {
            try {
                qemu = server.accept();
                channel = transport.connect(target);
                TunnelWire.Encoder enc = new TunnelWire.Encoder(channel, lz4);
                enc.hello(token);
                Thread acks = new Thread(this::readAcks, "tunnel-acks-" + socket.getFileName());
                acks.setDaemon(true);
                acks.start();
                ByteBuffer buf = ByteBuffer.allocateDirect(TunnelWire.MAX_CHUNK);
                long start = System.nanoTime();
                while (true) {
                    awaitWindow(enc.streamBytes());
                    buf.clear();
                    int n = qemu.read(buf);
                    if (n < 0) {
                        break;
                    }
                    buf.flip();
                    enc.data(buf);
                    pace(start, enc.wireBytes());
                }
                enc.end();
                // Close only once the target acknowledged the whole stream: closing a TCP socket with unread
                // acknowledgements in its buffer sends a reset that can destroy the stream's tail in flight.
                synchronized (window) {
                    while (acked < enc.streamBytes() && !ackerDone) {
                        window.wait();
                    }
                    if (acked < enc.streamBytes()) {
                        throw new IOException("the target acknowledged " + acked + " of " + enc.streamBytes() + " stream bytes");
                    }
                }
                done.complete(new Stats(enc.streamBytes(), enc.wireBytes()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                done.completeExceptionally(new QemuException(QemuException.Kind.MIGRATION, "tunnel to " + target + ": interrupted"));
            } catch (IOException | RuntimeException e) {
                done.completeExceptionally(new QemuException(QemuException.Kind.MIGRATION, "tunnel to " + target + ": " + e.getMessage(), e));
            } finally {
                close();
            }
        }

        /** Blocks while more than WINDOW stream bytes are unacknowledged (QEMU then blocks on its socket: backpressure). */
        private void awaitWindow(long sent) throws IOException {
            synchronized (window) {
                while (sent - acked > TunnelWire.WINDOW) {
                    if (ackerDone) {
                        throw new IOException("the target stopped acknowledging (channel closed)");
                    }
                    try {
                        window.wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IOException("interrupted waiting for the target's acknowledgement");
                    }
                }
            }
        }

        private void readAcks() {
            TunnelWire.Decoder dec = new TunnelWire.Decoder(channel);
            try {
                TunnelWire.Frame f;
                while ((f = dec.next()) != null) {
                    if (f.type() != TunnelWire.ACK) {
                        throw new QemuException(QemuException.Kind.CORRUPT_STREAM, "tunnel to " + target + ": frame type " + f.type() + " from the target");
                    }
                    long n = f.data().getLong(0);
                    synchronized (window) {
                        acked = Math.max(acked, n);
                        window.notifyAll();
                    }
                }
            } catch (IOException | RuntimeException e) {
                // the channel closed or misbehaved: the sender sees ackerDone and fails if it still needs acks
            } finally {
                synchronized (window) {
                    ackerDone = true;
                    window.notifyAll();
                }
            }
        }

        /** Token-bucket pacing of wire bytes: sleep off whatever we are ahead of the rate. */
        private void pace(long startNanos, long sent) {
            if (bytesPerSecond <= 0) {
                return;
            }
            long due = startNanos + (long) (sent * 1e9 / bytesPerSecond);
            long ahead = due - System.nanoTime();
            if (ahead > 0) {
                LockSupport.parkNanos(ahead);
            }
        }

        @Override
        public void close() {
            closeQuietly(server);
            closeQuietly(qemu);
            FrameChannel c = channel;
            if (c != null) {
                c.close();
            }
            try {
                Files.deleteIfExists(socket);
            } catch (IOException ignored) {
                // a stale socket file is replaced on the next migration
            }
        }
    }

    /** Target side: accepts the source's channel, checks its token, writes the stream into the target QEMU. */
    static final class Receiver implements AutoCloseable {
        private final Transport.Listener listener;
        private final byte[] token;
        private final Path qemuSocket;
        private final CompletableFuture<Stats> done = new CompletableFuture<>();
        private volatile FrameChannel channel;
        private volatile SocketChannel qemu;

        Receiver(Transport.Listener listener, byte[] token, Path qemuSocket) {
            this.listener = listener;
            this.token = token.clone();
            this.qemuSocket = qemuSocket;
            Thread t = new Thread(this::run, "tunnel-recv-" + qemuSocket.getFileName());
            t.setDaemon(true);
            t.start();
        }

        Endpoint endpoint() {
            return listener.endpoint();
        }

        CompletableFuture<Stats> done() {
            return done;
        }

        private void run() {
            try {
                TunnelWire.Decoder dec;
                while (true) {
                    // Anyone may connect to the port; only a channel opening with the one-time token is served.
                    FrameChannel c = listener.accept();
                    dec = new TunnelWire.Decoder(c);
                    TunnelWire.Frame hello;
                    try {
                        hello = dec.next();
                    } catch (QemuException | IOException e) {
                        c.close();
                        continue;
                    }
                    if (hello != null && hello.type() == TunnelWire.HELLO && MessageDigest.isEqual(bytes(hello.data()), token)) {
                        channel = c;
                        break;
                    }
                    c.close();
                }
                listener.close();
                qemu = SocketChannel.open(UnixDomainSocketAddress.of(qemuSocket));
                TunnelWire.Encoder acks = new TunnelWire.Encoder(channel, false);
                long lastAck = 0;
                while (true) {
                    TunnelWire.Frame f = dec.next();
                    if (f == null) {
                        throw new QemuException(QemuException.Kind.MIGRATION, "tunnel from " + channel.name() + " closed before END");
                    }
                    if (f.type() == TunnelWire.END) {
                        acks.ack(dec.streamBytes());
                        break;
                    }
                    if (f.type() == TunnelWire.HELLO || f.type() == TunnelWire.ACK) {
                        throw new QemuException(QemuException.Kind.CORRUPT_STREAM, "tunnel from " + channel.name() + ": unexpected frame type " + f.type());
                    }
                    ByteBuffer data = f.data();
                    while (data.hasRemaining()) {
                        qemu.write(data);
                    }
                    if (dec.streamBytes() - lastAck >= TunnelWire.WINDOW / 4) {
                        lastAck = dec.streamBytes();
                        acks.ack(lastAck);
                    }
                }
                done.complete(new Stats(dec.streamBytes(), dec.wireBytes()));
            } catch (IOException | RuntimeException e) {
                done.completeExceptionally(e instanceof QemuException q ? q
                        : new QemuException(QemuException.Kind.MIGRATION, "tunnel into " + qemuSocket + ": " + e.getMessage(), e));
            } finally {
                close();
            }
        }

        @Override
        public void close() {
            listener.close();
            FrameChannel c = channel;
            if (c != null) {
                c.close();
            }
            closeQuietly(qemu);
        }

        private static byte[] bytes(ByteBuffer b) {
            byte[] out = new byte[b.remaining()];
            b.duplicate().get(out);
            return out;
        }
    }

    private static void closeQuietly(java.nio.channels.Channel c) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException ignored) {
                // closing a broken socket: it is gone either way
            }
        }
    }
}
