package io.ferryvm.core.device.serial;

import io.ferryvm.core.state.Migratable;
import java.nio.charset.StandardCharsets;

/**
 * A guest's serial port (COM1): guests print progress markers on it, as QEMU's migration-test guest
 * prints 'B' once every 64 passes. Keeps a count and the last {@value #TAIL} bytes.
 */
public final class SerialDevice implements Migratable<SerialState> {
    static final int TAIL = 256;

    private final byte[] ring = new byte[TAIL];
    private long written;

    public SerialDevice() {}

    public static SerialDevice restore(SerialState state) {
        SerialDevice d = new SerialDevice();
        byte[] tail = state.tail();
        long start = state.bytesWritten() - tail.length;
        for (int i = 0; i < tail.length; i++) {
            d.ring[(int) ((start + i) % TAIL)] = tail[i];
        }
        d.written = state.bytesWritten();
        return d;
    }

    /** Called by vCPU threads. */
    public synchronized void write(byte b) {
        ring[(int) (written % TAIL)] = b;
        written++;
    }

    public synchronized long bytesWritten() {
        return written;
    }

    /** The most recent output, oldest first, as ISO-8859-1 text. */
    public String tail() {
        return new String(save().tail(), StandardCharsets.ISO_8859_1);
    }

    @Override
    public String id() {
        return "serial0";
    }

    @Override
    public synchronized SerialState save() {
        int n = (int) Math.min(written, TAIL);
        byte[] tail = new byte[n];
        long start = written - n;
        for (int i = 0; i < n; i++) {
            tail[i] = ring[(int) ((start + i) % TAIL)];
        }
        return new SerialState(written, tail);
    }
}
