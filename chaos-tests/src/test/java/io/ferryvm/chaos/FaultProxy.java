package io.ferryvm.chaos;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * A SOCKS5 proxy (RFC 1928, CONNECT, no authentication) that every node's outgoing migration channels go
 * through ({@code ferry node --migration-proxy}), so the harness stands in front of each target's data
 * plane and can damage the stream on purpose: flip one byte at an offset, cut the stream after N bytes (a
 * truncated frame), stall it (a stalled or blackholed target), reset it, hold every chunk back (latency)
 * or cap its rate (a slow target). It also honours the network's partitions, so a cut between two nodes
 * cuts their migration channels too, and it remembers every endpoint it was asked for (the ticket's
 * listener: the security suite knocks on it).
 *
 * <p>Implementation notes. One thread accepts; each tunnel has one pump thread per direction, which
 * consults the current {@link Fault} for every chunk, so a fault armed mid-stream takes effect on the
 * next chunk. One-shot faults (flip, truncate) fire once, on the first tunnel that reaches their offset,
 * and then disarm themselves.
 */
final class FaultProxy implements AutoCloseable {
    /** What the proxy does to the source-to-target stream (and, for stall, reset and delay, to both directions). */
    sealed interface Fault permits Pass, Flip, Truncate, Stall, Reset, Delay, Rate {}

    record Pass() implements Fault {}

    /** XOR one byte at this offset of the next tunnel that gets there. */
    record Flip(long offset, int mask) implements Fault {}

    /** Forward exactly this many bytes of the next tunnel that gets there, then close it. */
    record Truncate(long afterBytes) implements Fault {}

    /**
     * Forward nothing more, keep the connections open (a stalled target, a blackhole): at once (0), or once a
     * tunnel carried this many bytes towards its target (mid-stream, whatever the timing).
     */
    record Stall(long afterBytes) implements Fault {}

    /** Close every tunnel with a TCP reset and refuse new ones (0), or reset a tunnel once it carried this many bytes. */
    record Reset(long afterBytes) implements Fault {}

    /** Hold every chunk back this long. */
    record Delay(long millis) implements Fault {}

    /** At most this many bytes per second per tunnel and direction. */
    record Rate(long bytesPerSecond) implements Fault {}

    /** One CONNECT the proxy was asked for: from which address, to which host:port. */
    record Connect(String from, String host, int port) {}

    private final ServerSocket server;
    private final Network network;
    private final AtomicReference<Fault> fault = new AtomicReference<>(new Pass());
    private final AtomicInteger fired = new AtomicInteger();
    private final java.util.concurrent.atomic.AtomicLong toTargets = new java.util.concurrent.atomic.AtomicLong();
    private final List<Tunnel> tunnels = new CopyOnWriteArrayList<>();
    private final List<Connect> connects = new CopyOnWriteArrayList<>();
    private final Thread acceptor;
    private volatile boolean closed;

    FaultProxy(String bindAddress, Network network) {
        this.network = network;
        try {
            server = new ServerSocket();
            server.bind(new InetSocketAddress(InetAddress.getByName(bindAddress), 0), 64);
        } catch (IOException e) {
            throw new ChaosException("fault proxy cannot listen on " + bindAddress + ": " + e.getMessage(), e);
        }
        acceptor = new Thread(this::acceptLoop, "chaos-proxy-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** "host:port" for --migration-proxy. */
    String address() {
        return server.getInetAddress().getHostAddress() + ":" + server.getLocalPort();
    }

    /** Arms a fault for what flows from now on (Pass disarms). Reset also kills every open tunnel at once. */
    void set(Fault f) {
        fault.set(f);
        if (f instanceof Reset rs && rs.afterBytes() == 0) {
            tunnels.forEach(t -> t.abort(true));
        }
    }

    Fault current() {
        return fault.get();
    }

    /** How many one-shot faults fired since the proxy started. */
    int fired() {
        return fired.get();
    }

    /** Bytes forwarded from sources to targets so far (all tunnels): how far migrations got. */
    long bytesToTargets() {
        return toTargets.get();
    }

    List<Connect> connects() {
        return List.copyOf(connects);
    }

    int openTunnels() {
        return (int) tunnels.stream().filter(t -> !t.done).count();
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            Thread t = new Thread(() -> handshake(client), "chaos-proxy-tunnel");
            t.setDaemon(true);
            t.start();
        }
    }

    private void handshake(Socket client) {
        try {
            client.setTcpNoDelay(true);
            DataInputStream in = new DataInputStream(client.getInputStream());
            OutputStream out = client.getOutputStream();
            if (in.readUnsignedByte() != 5) {
                client.close();
                return;
            }
            int methods = in.readUnsignedByte();
            in.readFully(new byte[methods]);
            out.write(new byte[] {5, 0});
            in.readUnsignedByte(); // version
            int cmd = in.readUnsignedByte();
            in.readUnsignedByte();
            int atyp = in.readUnsignedByte();
            String host;
            if (atyp == 1) {
                byte[] a = new byte[4];
                in.readFully(a);
                host = InetAddress.getByAddress(a).getHostAddress();
            } else if (atyp == 3) {
                byte[] a = new byte[in.readUnsignedByte()];
                in.readFully(a);
                host = new String(a, StandardCharsets.US_ASCII);
            } else {
                client.close();
                return;
            }
            int port = in.readUnsignedShort();
            String from = ((InetSocketAddress) client.getRemoteSocketAddress()).getAddress().getHostAddress();
            connects.add(new Connect(from, host, port));
            if (cmd != 1 || (fault.get() instanceof Reset rs && rs.afterBytes() == 0)) {
                reply(out, 5);
                client.close();
                return;
            }
            if (network.cut(from, host)) {
                return; // a partition: the CONNECT is never answered, as a dropped SYN never is
            }
            Socket upstream = new Socket();
            try {
                upstream.connect(new InetSocketAddress(host, port), 5000);
                upstream.setTcpNoDelay(true);
            } catch (IOException e) {
                reply(out, 5);
                client.close();
                upstream.close();
                return;
            }
            reply(out, 0);
            Tunnel t = new Tunnel(client, upstream, from, host);
            tunnels.add(t);
            t.start();
        } catch (IOException e) {
            try {
                client.close();
            } catch (IOException ignored) {
                // gone already
            }
        }
    }

    private static void reply(OutputStream out, int rep) throws IOException {
        out.write(new byte[] {5, (byte) rep, 0, 1, 0, 0, 0, 0, 0, 0});
        out.flush();
    }

    /** One proxied connection: two pumps, byte counts per direction. */
    private final class Tunnel {
        final Socket client;
        final Socket upstream;
        final String from;
        final String to;
        final AtomicInteger pumpsEnded = new AtomicInteger();
        volatile boolean done;

        Tunnel(Socket client, Socket upstream, String from, String to) {
            this.client = client;
            this.upstream = upstream;
            this.from = from;
            this.to = to;
        }

        void start() {
            Thread up = new Thread(() -> pump(client, upstream, true), "chaos-proxy-up");
            Thread down = new Thread(() -> pump(upstream, client, false), "chaos-proxy-down");
            up.setDaemon(true);
            down.setDaemon(true);
            up.start();
            down.start();
        }

        void pump(Socket src, Socket dst, boolean toTarget) {
            byte[] buf = new byte[16 << 10];
            long offset = 0;
            long windowStart = System.nanoTime();
            long windowBytes = 0;
            try {
                InputStream in = src.getInputStream();
                OutputStream out = dst.getOutputStream();
                while (!done) {
                    int n = in.read(buf);
                    if (n < 0) {
                        break;
                    }
                    Fault f = fault.get();
                    boolean stalled = false;
                    while ((f instanceof Stall st && (st.afterBytes() == 0 || (toTarget && offset + n > st.afterBytes())))
                            || (network.cut(from, to) && !done)) {
                        if (!stalled && f instanceof Stall) {
                            stalled = true;
                            fired.incrementAndGet();
                        }
                        // hold the bytes: the peer sees silence, as behind a blackhole, until healed or aborted
                        LockSupport.parkNanos(20_000_000L);
                        if (done) {
                            return;
                        }
                        f = fault.get();
                    }
                    if (f instanceof Reset rs && (rs.afterBytes() == 0 || (toTarget && offset + n > rs.afterBytes()))) {
                        fired.incrementAndGet();
                        abort(true);
                        return;
                    }
                    if (toTarget && f instanceof Flip fl && fl.offset() >= offset && fl.offset() < offset + n
                            && fault.compareAndSet(f, new Pass())) {
                        buf[(int) (fl.offset() - offset)] ^= (byte) fl.mask();
                        fired.incrementAndGet();
                    }
                    if (toTarget && f instanceof Truncate tr && tr.afterBytes() < offset + n && fault.compareAndSet(f, new Pass())) {
                        int keep = (int) Math.max(0, tr.afterBytes() - offset);
                        out.write(buf, 0, keep);
                        out.flush();
                        fired.incrementAndGet();
                        abort(false);
                        return;
                    }
                    if (f instanceof Delay d) {
                        LockSupport.parkNanos(d.millis() * 1_000_000L); // the chunk's due time
                    }
                    if (f instanceof Rate r && r.bytesPerSecond() > 0) {
                        windowBytes += n;
                        long due = windowStart + windowBytes * 1_000_000_000L / r.bytesPerSecond();
                        long wait = due - System.nanoTime();
                        if (wait > 0) {
                            LockSupport.parkNanos(wait);
                        }
                    } else {
                        windowStart = System.nanoTime();
                        windowBytes = 0;
                    }
                    out.write(buf, 0, n);
                    out.flush();
                    offset += n;
                    if (toTarget) {
                        toTargets.addAndGet(n);
                    }
                }
                dst.shutdownOutput();
                if (pumpsEnded.incrementAndGet() == 2) {
                    abort(false); // both directions ended cleanly
                }
            } catch (IOException e) {
                abort(false);
            }
        }

        /** Closes both sides; with reset, as a TCP RST (linger 0) rather than a FIN. */
        void abort(boolean reset) {
            done = true;
            for (Socket s : new Socket[] {client, upstream}) {
                try {
                    if (reset) {
                        s.setSoLinger(true, 0);
                    }
                    s.close();
                } catch (SocketException ignored) {
                    // closed already
                } catch (IOException ignored) {
                    // closed already
                }
            }
            tunnels.remove(this);
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closed already
        }
        for (Tunnel t : new ArrayList<>(tunnels)) {
            t.abort(false);
        }
    }
}
