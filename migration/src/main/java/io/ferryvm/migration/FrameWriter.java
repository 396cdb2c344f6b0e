package io.ferryvm.migration;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.LongAdder;
import java.util.zip.CRC32C;

/**
 * Writes frames on one channel: header, sequence and CRC32C, through the bandwidth cap. Thread-safe
 * (the target's channel 0 carries ACKs from its receiver and page requests from faulting vCPUs).
 */
final class FrameWriter {
    private final FrameChannel channel;
    private final int index;
    private final RateLimiter limiter;
    private final LongAdder wireBytes;
    private final ByteBuffer header = ByteBuffer.allocate(Wire.HEADER_BYTES);
    private final CRC32C crc = new CRC32C();
    private long sequence;

    FrameWriter(FrameChannel channel, int index, RateLimiter limiter, LongAdder wireBytes) {
        this.channel = channel;
        this.index = index;
        this.limiter = limiter;
        this.wireBytes = wireBytes;
    }

    int index() {
        return index;
    }

    FrameChannel channel() {
        return channel;
    }

    /** Writes one frame with the payload's remaining bytes (consumed). */
    synchronized void write(Command command, ByteBuffer payload) throws IOException {
        int len = payload.remaining();
        if (len > Wire.maxPayload(command)) {
            throw new IllegalArgumentException(command + " payload of " + len + " bytes exceeds its bound");
        }
        header.clear();
        header.putInt(Wire.MAGIC).put((byte) command.code).put((byte) 0).putShort((short) index)
                .putInt((int) sequence).putInt(len);
        crc.reset();
        crc.update(header.array(), 0, 16);
        crc.update(payload.duplicate());
        header.putInt((int) crc.getValue());
        header.flip();
        if (limiter != null) {
            limiter.acquire(Wire.HEADER_BYTES + len);
        }
        channel.write(new ByteBuffer[] {header, payload});
        sequence++;
        if (wireBytes != null) {
            wireBytes.add(Wire.HEADER_BYTES + len);
        }
    }

    void write(Command command) throws IOException {
        write(command, ByteBuffer.allocate(0));
    }
}
