package io.ferryvm.migration;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The channel SPI: one bidirectional, ordered, reliable byte stream between a source and a target
 * (a TCP connection, an in-memory pipe, a Pekko Streams TCP flow). It moves encoded frames; it never
 * looks inside them, and the decoder trusts nothing it delivers.
 */
public interface FrameChannel extends Closeable {
    /** Writes every remaining byte of the buffers, in order, blocking while the peer is slow (backpressure). */
    void write(ByteBuffer[] buffers) throws IOException;

    /** Reads at least one byte into dst, blocking until some arrive; -1 once the peer closed its side. */
    int read(ByteBuffer dst) throws IOException;

    /** Closes both directions; idempotent; a blocked read or write on either end fails or ends. */
    @Override
    void close();

    /** For messages: which connection this is. */
    String name();
}
