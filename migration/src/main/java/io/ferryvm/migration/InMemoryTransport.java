package io.ferryvm.migration;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Channels as in-process pipes with bounded buffers (backpressure like a socket): for unit tests, and for
 * two simulated hosts in one JVM. Tests may install an {@link Interceptor} that sees (and may corrupt or
 * cut) every write, the way a broken network would.
 */
public final class InMemoryTransport implements Transport {
    /** Sees each write on a connection before the peer can read it. */
    @FunctionalInterface
    public interface Interceptor {
        /**
         * connection: the n-th connection made through this transport (from 0); toTarget: direction;
         * bytes: what was written, mutable. Return false to cut the connection instead of delivering.
         */
        boolean onWrite(int connection, boolean toTarget, byte[] bytes);
    }

    private static final int PIPE_BYTES = 8 << 20;
    private static final Endpoint CLOSED = new Endpoint("mem", "");

    private final Map<String, MemListener> listeners = new ConcurrentHashMap<>();
    private final AtomicInteger connections = new AtomicInteger();
    private volatile Interceptor interceptor;

    public void intercept(Interceptor i) {
        this.interceptor = i;
    }

    @Override
    public Listener listen(String name) throws IOException {
        MemListener l = new MemListener(name + "-" + connections.get() + "-" + System.identityHashCode(new Object()));
        if (listeners.putIfAbsent(l.endpoint.address(), l) != null) {
            throw new IOException("in-memory endpoint " + l.endpoint + " already listening");
        }
        return l;
    }

    @Override
    public FrameChannel connect(Endpoint endpoint) throws IOException {
        MemListener l = listeners.get(endpoint.address());
        if (l == null || !"mem".equals(endpoint.transport())) {
            throw new IOException("nothing listens on " + endpoint);
        }
        int n = connections.getAndIncrement();
        Pipe toTarget = new Pipe();
        Pipe toSource = new Pipe();
        MemChannel src = new MemChannel("mem#" + n + "/source", n, true, toTarget, toSource);
        MemChannel dst = new MemChannel("mem#" + n + "/target", n, false, toSource, toTarget);
        if (!l.pending.offer(dst) || l.closed) {
            throw new IOException("endpoint " + endpoint + " closed");
        }
        return src;
    }

    private final class MemListener implements Listener {
        final Endpoint endpoint;
        final BlockingQueue<FrameChannel> pending = new LinkedBlockingQueue<>();
        volatile boolean closed;

        MemListener(String address) {
            this.endpoint = new Endpoint("mem", address);
        }

        @Override
        public Endpoint endpoint() {
            return endpoint;
        }

        @Override
        public FrameChannel accept() throws IOException {
            try {
                FrameChannel c = pending.take();
                if (closed || c == POISON) {
                    throw new IOException("listener " + endpoint + " closed");
                }
                return c;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while accepting on " + endpoint);
            }
        }

        @Override
        public void close() {
            closed = true;
            listeners.remove(endpoint.address(), this);
            pending.offer(POISON);
        }
    }

    private static final FrameChannel POISON = new FrameChannel() {
        @Override
        public void write(ByteBuffer[] buffers) {}

        @Override
        public int read(ByteBuffer dst) {
            return -1;
        }

        @Override
        public void close() {}

        @Override
        public String name() {
            return CLOSED.toString();
        }
    };

    private final class MemChannel implements FrameChannel {
        private final String name;
        private final int connection;
        private final boolean source;
        private final Pipe out;
        private final Pipe in;

        MemChannel(String name, int connection, boolean source, Pipe out, Pipe in) {
            this.name = name;
            this.connection = connection;
            this.source = source;
            this.out = out;
            this.in = in;
        }

        @Override
        public void write(ByteBuffer[] buffers) throws IOException {
            int n = 0;
            for (ByteBuffer b : buffers) {
                n += b.remaining();
            }
            byte[] chunk = new byte[n];
            int off = 0;
            for (ByteBuffer b : buffers) {
                int r = b.remaining();
                b.get(chunk, off, r);
                off += r;
            }
            Interceptor i = interceptor;
            if (i != null && !i.onWrite(connection, source, chunk)) {
                close();
                throw new IOException(name + ": connection cut");
            }
            out.put(chunk, name);
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return in.take(dst, name);
        }

        @Override
        public void close() {
            out.close();
            in.close();
        }

        @Override
        public String name() {
            return name;
        }
    }

    /** One direction: a queue of written chunks holding at most PIPE_BYTES (a single larger chunk is let through). */
    private static final class Pipe {
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition changed = lock.newCondition();
        private final ArrayDeque<byte[]> chunks = new ArrayDeque<>();
        private int headOffset;
        private long queued;
        private boolean closed;

        void put(byte[] chunk, String name) throws IOException {
            lock.lock();
            try {
                while (!closed && queued > 0 && queued + chunk.length > PIPE_BYTES) {
                    changed.awaitUninterruptibly();
                }
                if (closed) {
                    throw new IOException(name + ": channel closed");
                }
                chunks.add(chunk);
                queued += chunk.length;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }

        int take(ByteBuffer dst, String name) throws IOException {
            lock.lock();
            try {
                while (chunks.isEmpty() && !closed) {
                    changed.awaitUninterruptibly();
                }
                if (chunks.isEmpty()) {
                    return -1;
                }
                int n = 0;
                while (dst.hasRemaining() && !chunks.isEmpty()) {
                    byte[] head = chunks.peek();
                    int k = Math.min(dst.remaining(), head.length - headOffset);
                    dst.put(head, headOffset, k);
                    headOffset += k;
                    n += k;
                    if (headOffset == head.length) {
                        chunks.poll();
                        headOffset = 0;
                    }
                }
                queued -= n;
                changed.signalAll();
                return n;
            } finally {
                lock.unlock();
            }
        }

        void close() {
            lock.lock();
            try {
                closed = true;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }
}
