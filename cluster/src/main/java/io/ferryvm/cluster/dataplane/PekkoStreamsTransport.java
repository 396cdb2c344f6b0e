package io.ferryvm.cluster.dataplane;

import io.ferryvm.migration.Endpoint;
import io.ferryvm.migration.FrameChannel;
import io.ferryvm.migration.Transport;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.StreamConverters;
import org.apache.pekko.stream.javadsl.Tcp;
import org.apache.pekko.util.ByteString;

/**
 * Migration channels over Pekko Streams TCP: each channel is a TCP connection whose two directions are
 * streams bridged to the migration module's blocking {@link FrameChannel} (a bounded output stream that
 * blocks the writer while the connection backpressures, an input stream that blocks the reader). So
 * backpressure runs end to end: the target's receiver stops reading, TCP fills, the stream stops
 * pulling, the source's sender blocks.
 *
 * <p>Measured against the migration module's own NIO transport in the data-plane benchmark; the node
 * uses whichever is faster (see the cluster README).
 */
public final class PekkoStreamsTransport implements Transport {
    static final String NAME = "pekko-tcp";
    private static final Duration IO_TIMEOUT = Duration.ofMinutes(5);

    private final java.util.function.Supplier<ActorSystem<?>> systemOf;
    private final String bindAddress;

    public PekkoStreamsTransport(ActorSystem<?> system, String bindAddress) {
        this(() -> system, bindAddress);
    }

    /** For a node whose actor system starts after its transport is made. */
    public PekkoStreamsTransport(java.util.function.Supplier<ActorSystem<?>> system, String bindAddress) {
        this.systemOf = system;
        this.bindAddress = bindAddress;
    }

    private static Flow<ByteString, ByteString, Pair<InputStream, OutputStream>> bridge() {
        Sink<ByteString, InputStream> in = StreamConverters.asInputStream(IO_TIMEOUT);
        Source<ByteString, OutputStream> out = StreamConverters.asOutputStream(IO_TIMEOUT);
        return Flow.fromSinkAndSourceMat(in, out, Keep.both());
    }

    @Override
    public Listener listen(String name) throws IOException {
        ActorSystem<?> system = systemOf.get();
        Materializer mat = Materializer.matFromSystem(system);
        BlockingQueue<FrameChannel> accepted = new LinkedBlockingQueue<>();
        AtomicBoolean closed = new AtomicBoolean();
        AtomicInteger seq = new AtomicInteger();
        Pair<CompletionStage<Tcp.ServerBinding>, CompletionStage<org.apache.pekko.Done>> bound = Tcp.get(system)
                .bind(bindAddress, 0)
                .toMat(Sink.foreach(conn -> {
                    if (closed.get()) {
                        conn.handleWith(Flow.fromSinkAndSource(Sink.cancelled(), Source.empty()), mat);
                        return;
                    }
                    Pair<InputStream, OutputStream> io = conn.handleWith(bridge(), mat);
                    accepted.add(new StreamChannel(name + "-in-" + seq.getAndIncrement(), io.first(), io.second()));
                }), Keep.both())
                .run(mat);
        Tcp.ServerBinding binding;
        try {
            binding = bound.first().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IOException("cannot listen on " + bindAddress + " with Pekko Streams TCP: " + e.getMessage(), e);
        }
        InetSocketAddress at = binding.localAddress();
        Endpoint endpoint = new Endpoint(NAME, at.getHostString() + ":" + at.getPort());
        return new Listener() {
            @Override
            public Endpoint endpoint() {
                return endpoint;
            }

            @Override
            public FrameChannel accept() throws IOException {
                while (true) {
                    if (closed.get()) {
                        throw new IOException("listener " + endpoint + " closed");
                    }
                    try {
                        FrameChannel c = accepted.poll(200, TimeUnit.MILLISECONDS);
                        if (c != null) {
                            return c;
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IOException("interrupted while accepting on " + endpoint);
                    }
                }
            }

            @Override
            public void close() {
                if (closed.compareAndSet(false, true)) {
                    binding.unbind();
                    FrameChannel c;
                    while ((c = accepted.poll()) != null) {
                        c.close();
                    }
                }
            }
        };
    }

    @Override
    public FrameChannel connect(Endpoint endpoint) throws IOException {
        if (!NAME.equals(endpoint.transport())) {
            throw new IOException("not a " + NAME + " endpoint: " + endpoint);
        }
        int colon = endpoint.address().lastIndexOf(':');
        int port;
        try {
            port = Integer.parseInt(endpoint.address().substring(colon + 1));
        } catch (RuntimeException e) {
            throw new IOException("endpoint without a valid port: " + endpoint);
        }
        ActorSystem<?> system = systemOf.get();
        Materializer mat = Materializer.matFromSystem(system);
        Pair<CompletionStage<Tcp.OutgoingConnection>, Pair<InputStream, OutputStream>> r = Tcp.get(system)
                .outgoingConnection(endpoint.address().substring(0, colon), port)
                .joinMat(bridge(), Keep.both())
                .run(mat);
        try {
            r.first().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IOException("cannot connect to " + endpoint + ": " + e.getMessage(), e);
        }
        return new StreamChannel("to-" + endpoint.address(), r.second().first(), r.second().second());
    }

    /** A channel over the two bridged streams. */
    static final class StreamChannel implements FrameChannel {
        private final String name;
        private final InputStream in;
        private final OutputStream out;
        private final AtomicBoolean closed = new AtomicBoolean();
        private final byte[] scratch = new byte[1 << 16];
        /** Reads have their own buffer: one thread reads while another writes (ACKs) on the same channel. */
        private final byte[] readScratch = new byte[1 << 16];

        StreamChannel(String name, InputStream in, OutputStream out) {
            this.name = name;
            this.in = in;
            this.out = out;
        }

        @Override
        public void write(ByteBuffer[] buffers) throws IOException {
            for (ByteBuffer b : buffers) {
                if (b.hasArray()) {
                    out.write(b.array(), b.arrayOffset() + b.position(), b.remaining());
                    b.position(b.limit());
                } else {
                    while (b.hasRemaining()) {
                        int n = Math.min(b.remaining(), scratch.length);
                        b.get(scratch, 0, n);
                        out.write(scratch, 0, n);
                    }
                }
            }
            out.flush();
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            int n;
            if (dst.hasArray()) {
                n = in.read(dst.array(), dst.arrayOffset() + dst.position(), dst.remaining());
                if (n > 0) {
                    dst.position(dst.position() + n);
                }
            } else {
                n = in.read(readScratch, 0, Math.min(dst.remaining(), readScratch.length));
                if (n > 0) {
                    dst.put(readScratch, 0, n);
                }
            }
            return n;
        }

        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                try {
                    out.close();
                } catch (IOException ignored) {
                    // the stream is gone already
                }
                try {
                    in.close();
                } catch (IOException ignored) {
                    // likewise
                }
            }
        }

        @Override
        public String name() {
            return name;
        }
    }
}
