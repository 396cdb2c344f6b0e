package io.ferryvm.migration;

import java.io.Closeable;
import java.io.IOException;

/**
 * How channels are made: the target listens, the source connects once per channel. Implementations:
 * {@link InMemoryTransport} (unit tests), {@link TcpTransport}; the cluster module adds Pekko Streams TCP.
 */
public interface Transport {
    /** A target's listening endpoint; accepted channels are unauthenticated until their HELLO token checks out. */
    interface Listener extends Closeable {
        Endpoint endpoint();

        /** Blocks for the next incoming channel; throws once closed. */
        FrameChannel accept() throws IOException;

        @Override
        void close();
    }

    Listener listen(String name) throws IOException;

    FrameChannel connect(Endpoint endpoint) throws IOException;
}
