package io.ferryvm.core.device.serial;

import java.util.Arrays;

/** Saved state of the serial port: bytes ever written and the most recent ones (oldest first). */
public record SerialState(long bytesWritten, byte[] tail) {
    public SerialState {
        tail = tail.clone();
        if (tail.length > SerialDevice.TAIL) {
            throw new IllegalArgumentException("serial tail of " + tail.length + " bytes exceeds " + SerialDevice.TAIL);
        }
        if (bytesWritten < tail.length) {
            throw new IllegalArgumentException("serial tail longer than bytes written");
        }
    }

    public static final SerialState EMPTY = new SerialState(0, new byte[0]);

    @Override
    public byte[] tail() {
        return tail.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SerialState s && s.bytesWritten == bytesWritten && Arrays.equals(s.tail, tail);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(bytesWritten) * 31 + Arrays.hashCode(tail);
    }

    @Override
    public String toString() {
        return "SerialState[" + bytesWritten + " bytes, tail=\"" + new String(tail, java.nio.charset.StandardCharsets.ISO_8859_1) + "\"]";
    }
}
