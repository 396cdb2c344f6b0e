package io.ferryvm.core.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.CoreException;
import io.ferryvm.core.device.serial.SerialState;
import io.ferryvm.core.machine.MachineState;
import io.ferryvm.core.machine.VcpuState;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Machine state under its format version: round trip, both edges of the window, and hostile input. */
class StateCodecTest {
    private static MachineState sample() {
        long[] r0 = {1, 2, 3, 4, 5, 6, 7, 8};
        long[] r1 = {-1, 0, Long.MAX_VALUE, 9, 0, 0, 0, 42};
        return new MachineState(new VcpuState[] {new VcpuState(0, 123, r0), new VcpuState(1, 456, r1)},
                new SerialState(300, "BBB".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void roundTripsTheCurrentVersion() {
        byte[] b = StateCodec.encode(sample());
        assertEquals(sample(), StateCodec.decode(b, "test"));
    }

    @Test
    void readsThePreviousVersionWithDevicesAtPowerOn() {
        byte[] v1 = StateCodec.encodeV1(sample());
        MachineState s = StateCodec.decode(v1, "old file");
        assertEquals(sample().vcpus()[1], s.vcpus()[1]);
        assertEquals(SerialState.EMPTY, s.serial());
    }

    @Test
    void refusesANewerVersionAndAnOlderOneWithAClearError() {
        byte[] payload = java.util.Arrays.copyOfRange(StateCodec.encode(sample()), 4 + 1 + 7 + 2 + 4, StateCodec.encode(sample()).length);
        CoreException newer = assertThrows(CoreException.class,
                () -> StateCodec.decode(StateCodec.frame("machine", StateCodec.MACHINE.current() + 1, payload), "migration stream"));
        assertEquals(CoreException.Kind.UNSUPPORTED_VERSION, newer.kind());
        assertTrue(newer.getMessage().contains("migration stream: machine format v3 is newer than this Ferry reads (v1..v2)"),
                newer.getMessage());
        CoreException older = assertThrows(CoreException.class,
                () -> StateCodec.decode(StateCodec.frame("machine", 0, payload), "x"));
        assertEquals(CoreException.Kind.UNSUPPORTED_VERSION, older.kind());
    }

    @Test
    void refusesOtherFormatsTruncationAndTrailingBytes() {
        byte[] good = StateCodec.encode(sample());
        assertEquals(CoreException.Kind.CORRUPT_STATE, assertThrows(CoreException.class,
                () -> StateCodec.decode(StateCodec.frame("savefile", 2, new byte[3]), "x")).kind());
        for (int cut = 0; cut < good.length; cut += 3) {
            byte[] t = java.util.Arrays.copyOf(good, cut);
            assertEquals(CoreException.Kind.CORRUPT_STATE,
                    assertThrows(CoreException.class, () -> StateCodec.decode(t, "x"), "cut " + cut).kind());
        }
        byte[] longer = java.util.Arrays.copyOf(good, good.length + 1);
        assertThrows(CoreException.class, () -> StateCodec.decode(longer, "x"));
    }

    @Test
    void absurdArrayLengthsAreRefusedBeforeAllocating() {
        KryoCodec codec = new KryoCodec(java.util.List.of(long[].class, VcpuState[].class), 1 << 20);
        byte[] good = codec.encode(new long[] {5});
        // class id byte, then the varint length (n + 1): claim 2^31 - 2 longs in a 10-byte payload
        byte[] hostile = {good[0], (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x07, 0, 0, 0, 0};
        CoreException e = assertThrows(CoreException.class, () -> codec.decode(hostile, 0, hostile.length, long[].class, "hostile"));
        assertEquals(CoreException.Kind.CORRUPT_STATE, e.kind());
        assertTrue(e.getMessage().contains("elements, only"), e.getMessage());
    }

    @Test
    void recordValidationFailuresReadAsTheRecordsOwnMessage() {
        MachineState s = sample();
        byte[] b = StateCodec.encode(s);
        // A serial tail longer than the bytes written breaks SerialState's own invariant.
        byte[] bad = StateCodec.encode(new MachineState(s.vcpus(), new SerialState(3, "BBB".getBytes(StandardCharsets.US_ASCII))));
        int at = indexOf(bad, new byte[] {'B', 'B', 'B'});
        assertTrue(at > 0 && b.length > 0);
        bad[at - 2] = 2; // bytesWritten varlong (3 -> 2): fewer bytes written than the tail holds
        CoreException e = assertThrows(CoreException.class, () -> StateCodec.decode(bad, "state"));
        assertEquals(CoreException.Kind.CORRUPT_STATE, e.kind());
        assertTrue(e.getMessage().contains("serial tail longer than bytes written"), e.getMessage());
    }

    private static int indexOf(byte[] a, byte[] b) {
        outer:
        for (int i = 0; i <= a.length - b.length; i++) {
            for (int j = 0; j < b.length; j++) {
                if (a[i + j] != b[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Test
    void randomMutationsNeverEscapeAsAnythingButCoreException() {
        byte[] good = StateCodec.encode(sample());
        SplittableRandom r = new SplittableRandom(2024);
        int decoded = 0;
        for (int i = 0; i < 5_000; i++) {
            byte[] m = good.clone();
            int flips = 1 + r.nextInt(4);
            for (int f = 0; f < flips; f++) {
                m[r.nextInt(m.length)] = (byte) r.nextInt(256);
            }
            try {
                StateCodec.decode(m, "fuzz");
                decoded++; // a mutation of a register value is still a valid state
            } catch (CoreException e) {
                assertTrue(e.kind() == CoreException.Kind.CORRUPT_STATE || e.kind() == CoreException.Kind.UNSUPPORTED_VERSION,
                        e.kind() + ": " + e.getMessage());
            }
        }
        assertTrue(decoded < 5_000);
    }
}
