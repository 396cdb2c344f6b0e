package io.ferryvm.migration;

import java.nio.ByteBuffer;

/**
 * One decoded frame. The payload is a view into the decoder's buffer, valid until the decoder
 * is fed again: a receiver handles a frame completely before it reads the next.
 */
record Frame(Command command, int channel, long sequence, ByteBuffer payload) {
    int length() {
        return payload.remaining();
    }
}
