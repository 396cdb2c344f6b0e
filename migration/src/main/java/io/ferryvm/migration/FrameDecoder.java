package io.ferryvm.migration;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * Turns a byte stream (any chunking) into checked frames, trusting nothing.
 *
 * <p>Implementation notes. An explicit state machine: HEADER (collect 20 bytes, then check magic,
 * command, direction, flags, channel, sequence and the length against the command's bound, all before
 * any allocation), PAYLOAD (collect exactly length bytes), then the CRC32C over header and payload; only
 * then is a frame handed out. Any failure moves to FAILED for good: a stream that lied once is never
 * parsed again. The payload buffer grows to the largest accepted frame and is reused.
 *
 * <p>In place ({@link #inPlace}): a receiver that keeps unconsumed bytes in its buffer (compact, then read
 * more) and whose buffer holds any whole frame gets each frame as a view of that buffer, with no copy:
 * when a header's frame is not complete yet, its bytes are left where they are (already checked, so a lie
 * in the header still fails at once) until the rest has been read behind them.
 */
final class FrameDecoder {
    enum State { HEADER, PAYLOAD, FAILED }

    private int channel;
    private final boolean atTarget;
    private boolean inPlace;
    private final ByteBuffer header = ByteBuffer.allocate(Wire.HEADER_BYTES);
    private final CRC32C crc = new CRC32C();
    private byte[] payload = new byte[4096];
    private State state = State.HEADER;
    private Command command;
    private int length;
    private int filled;
    private long expectedSequence;
    private int expectedCrc;

    /**
     * atTarget: this decoder reads what a source sends (else the target's return path). channel -1: the
     * first frame (a HELLO) names the channel and every later frame must name the same.
     */
    FrameDecoder(int channel, boolean atTarget) {
        this.channel = channel;
        this.atTarget = atTarget;
    }

    /**
     * Hand out frames as views of the caller's buffer: the caller keeps what {@link #next} leaves unconsumed
     * (compact, then read more behind it). Frames larger than the caller's buffer are still copied.
     */
    FrameDecoder inPlace() {
        inPlace = true;
        return this;
    }

    /**
     * The in-place receiver's read: reads from ch behind the unconsumed bytes of in (the start of a frame
     * {@link #next} left in place) and returns what {@link FrameChannel#read} returned; in's position stays
     * at the first unconsumed byte, its limit moves to the end of what was read. Those bytes move to the
     * front only when the space behind them could no longer take a whole frame: moving them on every read
     * would copy a large frame over and over while it trickles in.
     */
    static int readBehind(ByteBuffer in, FrameChannel ch) throws java.io.IOException {
        if (!in.hasRemaining()) {
            in.clear().limit(0); // nothing left over: read from the front
        } else if (in.capacity() - in.limit() < Wire.HEADER_BYTES + Wire.MAX_PAYLOAD) {
            in.compact().flip();
        }
        int start = in.position();
        in.position(in.limit()).limit(in.capacity());
        int n = ch.read(in);
        in.limit(in.position()).position(start);
        return n;
    }

    int channel() {
        return channel;
    }

    /** The payload buffer's size: never beyond the largest bound of any command. */
    int bufferCapacity() {
        return payload.length;
    }

    State state() {
        return state;
    }

    /** Frames accepted so far (the index of the next one, as named in errors). */
    long frames() {
        return expectedSequence;
    }

    /**
     * Consumes bytes of in; returns the next complete frame (in may hold more), or null when in ran dry
     * first. Throws a StreamCorrupt MigrationException, after which the decoder accepts nothing.
     */
    Frame next(ByteBuffer in) {
        if (state == State.FAILED) {
            throw fail("stream already failed");
        }
        while (in.hasRemaining()) {
            if (inPlace && state == State.HEADER && header.position() == 0 && in.remaining() < Wire.HEADER_BYTES
                    && in.capacity() >= Wire.HEADER_BYTES) {
                return null; // a header cut by the read: leave it for the next read to complete
            }
            if (inPlace && state == State.HEADER && header.position() == 0 && in.remaining() >= Wire.HEADER_BYTES) {
                int start = in.position();
                header.put(0, in, start, Wire.HEADER_BYTES).position(Wire.HEADER_BYTES);
                parseHeader();
                if (in.remaining() - Wire.HEADER_BYTES >= length) {
                    in.position(start + Wire.HEADER_BYTES + length);
                    return complete(in.slice(start + Wire.HEADER_BYTES, length));
                }
                if (in.capacity() >= Wire.HEADER_BYTES + length) {
                    header.clear(); // not consumed: the caller reads the rest in behind it
                    state = State.HEADER;
                    return null;
                }
                in.position(start + Wire.HEADER_BYTES); // larger than the caller's buffer: collect a copy
                continue;
            }
            if (state == State.HEADER) {
                int n = Math.min(header.remaining(), in.remaining());
                ByteBuffer slice = in.slice(in.position(), n);
                header.put(slice);
                in.position(in.position() + n);
                if (!header.hasRemaining()) {
                    parseHeader();
                    if (length == 0) {
                        return complete();
                    }
                }
            } else {
                if (payload.length < length) { // checked against the command's bound in parseHeader
                    payload = new byte[Math.max(length, Math.min(Wire.maxPayload(command), payload.length * 2))];
                }
                int n = Math.min(length - filled, in.remaining());
                in.get(payload, filled, n);
                filled += n;
                if (filled == length) {
                    return complete();
                }
            }
        }
        return null;
    }

    private void parseHeader() {
        header.flip();
        int magic = header.getInt(0);
        if (magic != Wire.MAGIC) {
            throw fail("bad magic 0x" + Integer.toHexString(magic));
        }
        int code = header.get(4) & 0xFF;
        Command c = Command.of(code);
        if (c == null) {
            throw fail("unknown command " + code);
        }
        if (!c.mayReach(atTarget)) {
            throw fail(c + " may not be sent to the " + (atTarget ? "target" : "source"));
        }
        int flags = header.get(5) & 0xFF;
        if (flags != 0) {
            throw fail("unknown flags 0x" + Integer.toHexString(flags));
        }
        int ch = header.getShort(6) & 0xFFFF;
        if (channel < 0) {
            channel = ch;
        } else if (ch != channel) {
            throw fail("frame names channel " + ch);
        }
        long seq = header.getInt(8) & 0xFFFFFFFFL;
        if (seq != (expectedSequence & 0xFFFFFFFFL)) {
            throw fail("sequence " + seq + ", expected " + (expectedSequence & 0xFFFFFFFFL));
        }
        long len = header.getInt(12) & 0xFFFFFFFFL;
        int max = Wire.maxPayload(c);
        if (len > max) {
            throw fail(c + " length " + len + " > " + max + " bytes");
        }
        expectedCrc = header.getInt(16);
        command = c;
        length = (int) len;
        filled = 0;
        state = State.PAYLOAD;
    }

    private Frame complete() {
        return complete(ByteBuffer.wrap(payload, 0, length).slice());
    }

    private Frame complete(ByteBuffer body) {
        crc.reset();
        crc.update(header.array(), 0, 16);
        crc.update(body.duplicate());
        if ((int) crc.getValue() != expectedCrc) {
            throw fail(command + " CRC32C mismatch");
        }
        Frame f = new Frame(command, channel, expectedSequence, body);
        expectedSequence++;
        header.clear();
        state = State.HEADER;
        return f;
    }

    private MigrationException fail(String detail) {
        state = State.FAILED;
        return MigrationException.corrupt(channel, expectedSequence, detail);
    }
}
