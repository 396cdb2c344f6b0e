package io.ferryvm.core.state;

import io.ferryvm.core.CoreException;
import io.ferryvm.core.device.serial.SerialState;
import io.ferryvm.core.machine.MachineState;
import io.ferryvm.core.machine.VcpuState;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Encodes a VM's non-memory state: Ferry's header (magic, format name, version) then Kryo.
 *
 * <pre>
 *   u32 magic "FST1" | u8 name length | name (ASCII) | u16 version | u32 payload length | payload (Kryo)
 * </pre>
 * Versions of the machine format: v1 held the vCPUs only; v2 (current) adds the device section
 * (serial port). v1 input still loads, with devices at their power-on state.
 */
public final class StateCodec {
    public static final FormatVersion MACHINE = new FormatVersion("machine", 2, 1);
    static final int MAGIC = 0x46535431; // "FST1"
    /** Bound on one encoded machine state: 4096 vCPUs of registers fit easily. */
    static final int MAX_PAYLOAD = 1 << 20;

    /** v1 layout, kept for reading (and for tests writing old files). */
    record MachineStateV1(VcpuState[] vcpus) {}

    private static final KryoCodec KRYO = new KryoCodec(List.of(
            MachineState.class, VcpuState.class, VcpuState[].class, long[].class, byte[].class, SerialState.class,
            MachineStateV1.class), MAX_PAYLOAD);

    private StateCodec() {}

    public static byte[] encode(MachineState state) {
        return frame(MACHINE.name(), MACHINE.current(), KRYO.encode(state));
    }

    /** Encodes in the old v1 layout (vCPUs only); exists to test the version window's lower edge. */
    static byte[] encodeV1(MachineState state) {
        return frame(MACHINE.name(), 1, KRYO.encode(new MachineStateV1(state.vcpus())));
    }

    static byte[] frame(String name, int version, byte[] payload) {
        byte[] n = name.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = ByteBuffer.allocate(4 + 1 + n.length + 2 + 4 + payload.length);
        b.putInt(MAGIC).put((byte) n.length).put(n).putShort((short) version).putInt(payload.length).put(payload);
        return b.array();
    }

    public static MachineState decode(byte[] bytes, String where) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        try {
            if (b.remaining() < 4 || b.getInt() != MAGIC) {
                throw corrupt(where, "not a Ferry state header (bad magic)");
            }
            int nl = b.get() & 0xFF;
            if (nl > b.remaining()) {
                throw corrupt(where, "state name length " + nl + " beyond the data");
            }
            byte[] n = new byte[nl];
            b.get(n);
            String name = new String(n, StandardCharsets.US_ASCII);
            if (!name.equals(MACHINE.name())) {
                throw corrupt(where, "state format '" + name + "', expected '" + MACHINE.name() + "'");
            }
            int version = b.getShort() & 0xFFFF;
            MACHINE.checkReadable(version, where);
            int len = b.getInt();
            if (len < 0 || len > MAX_PAYLOAD || len != b.remaining()) {
                throw corrupt(where, "state payload length " + len + " does not match the " + b.remaining() + " bytes present");
            }
            if (version == 1) {
                MachineStateV1 v1 = KRYO.decode(bytes, b.position(), len, MachineStateV1.class, where);
                return new MachineState(v1.vcpus(), SerialState.EMPTY);
            }
            return KRYO.decode(bytes, b.position(), len, MachineState.class, where);
        } catch (java.nio.BufferUnderflowException e) {
            throw corrupt(where, "state header truncated");
        }
    }

    private static CoreException corrupt(String where, String what) {
        return new CoreException(CoreException.Kind.CORRUPT_STATE, where + ": " + what);
    }
}
