package io.ferryvm.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.ferryvm.core.machine.GuestMemory;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Hostile input, seeded and bounded: random bytes, mutated valid streams and well-checksummed but
 * malformed RAM payloads never crash a decoder, never grow a buffer beyond its bound, and never install
 * a page.
 */
class FrameDecoderFuzzTest {
    private static final long SEED = 0x5EEDF00DL;

    /** Captures what a FrameWriter writes. */
    private static final class Capture implements FrameChannel {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        @Override
        public void write(ByteBuffer[] buffers) {
            for (ByteBuffer b : buffers) {
                byte[] a = new byte[b.remaining()];
                b.get(a);
                out.writeBytes(a);
            }
        }

        @Override
        public int read(ByteBuffer dst) {
            return -1;
        }

        @Override
        public void close() {}

        @Override
        public String name() {
            return "capture";
        }
    }

    private static List<Frame> decodeAll(byte[] stream, int channel, SplittableRandom chunking) {
        FrameDecoder d = new FrameDecoder(channel, true);
        List<Frame> out = new ArrayList<>();
        int pos = 0;
        while (pos < stream.length) {
            int n = Math.min(stream.length - pos, 1 + chunking.nextInt(3000));
            ByteBuffer in = ByteBuffer.wrap(stream, pos, n);
            Frame f;
            while ((f = d.next(in)) != null) {
                byte[] copy = new byte[f.length()];
                f.payload().duplicate().get(copy);
                out.add(new Frame(f.command(), f.channel(), f.sequence(), ByteBuffer.wrap(copy)));
            }
            assertTrue(d.bufferCapacity() <= Wire.MAX_PAYLOAD, "payload buffer grew to " + d.bufferCapacity());
            pos += n;
        }
        return out;
    }

    /** Serves a byte stream in reads of random size (1..maxRead bytes), then end of stream. */
    private static final class Trickle implements FrameChannel {
        private final byte[] stream;
        private final SplittableRandom r;
        private final int maxRead;
        private int pos;

        Trickle(byte[] stream, SplittableRandom r, int maxRead) {
            this.stream = stream;
            this.r = r;
            this.maxRead = maxRead;
        }

        @Override
        public void write(ByteBuffer[] buffers) {
            throw new UnsupportedOperationException();
        }

        @Override
        public int read(ByteBuffer dst) {
            if (pos == stream.length) {
                return -1;
            }
            int n = Math.min(Math.min(dst.remaining(), stream.length - pos), 1 + r.nextInt(maxRead));
            dst.put(stream, pos, n);
            pos += n;
            return n;
        }

        @Override
        public void close() {}

        @Override
        public String name() {
            return "trickle";
        }
    }

    /**
     * As the target's receiver decodes: in place, frames as views of its own buffer of the given capacity,
     * refilled by {@link FrameDecoder#readBehind} only after the previous frame was taken (copied here).
     */
    private static List<Frame> decodeAllInPlace(byte[] stream, int channel, SplittableRandom chunking, ByteBuffer in) {
        FrameDecoder d = new FrameDecoder(channel, true).inPlace();
        in.clear().flip();
        Trickle ch = new Trickle(stream, chunking, chunking.nextBoolean() ? 64 : 300_000);
        List<Frame> out = new ArrayList<>();
        while (true) {
            Frame f = d.next(in);
            if (f == null) {
                try {
                    if (FrameDecoder.readBehind(in, ch) < 0) {
                        return out;
                    }
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                assertTrue(in.position() <= in.limit() && in.limit() <= in.capacity());
                continue;
            }
            byte[] copy = new byte[f.length()];
            f.payload().duplicate().get(copy);
            out.add(new Frame(f.command(), f.channel(), f.sequence(), ByteBuffer.wrap(copy)));
            assertTrue(d.bufferCapacity() <= Wire.MAX_PAYLOAD, "payload buffer grew to " + d.bufferCapacity());
        }
    }

    /** A valid stream: HELLO, RAM batches of every codec, SYNC, STATE-sized frame, DONE. */
    private static byte[] validStream(int channel) throws Exception {
        Capture c = new Capture();
        FrameWriter w = new FrameWriter(c, channel, null, null);
        ByteBuffer hello = ByteBuffer.allocate(Wire.HELLO_BYTES);
        hello.putShort((short) 2).putLong(1).putLong(2).put(new byte[16]).putShort((short) channel).putShort((short) 2)
                .putLong(8 << 20).putInt(4096).flip();
        w.write(Command.HELLO, hello);
        try (GuestMemory mem = GuestMemory.allocate(8 << 20)) {
            for (long p = 0; p < mem.pageCount(); p += 3) {
                mem.putLong(p * 4096, p * 31);
            }
            PageEncoder enc = new PageEncoder(mem, Compression.XOR_LZ4, 1 << 20, b -> w.write(Command.RAM, b));
            for (long p = 0; p < mem.pageCount(); p++) {
                if (Wire.channelOf(p, 2) == channel) {
                    enc.encode(p, true, true);
                }
            }
            enc.flush();
        }
        ByteBuffer sync = ByteBuffer.allocate(Wire.SYNC_BYTES);
        sync.putInt(1).put((byte) 0).putLong(1024).flip();
        w.write(Command.SYNC, sync);
        w.write(Command.DONE);
        return c.out.toByteArray();
    }

    @Test
    void randomBytesNeverCrashTheDecoder() {
        SplittableRandom r = new SplittableRandom(SEED);
        for (int i = 0; i < 3000; i++) {
            byte[] junk = new byte[1 + r.nextInt(4096)];
            r.nextBytes(junk);
            if (r.nextBoolean()) { // often a plausible header, so the later checks get exercised too
                ByteBuffer.wrap(junk).putInt(0, Wire.MAGIC);
                if (junk.length > 6) {
                    junk[4] = (byte) r.nextInt(14);
                    junk[5] = 0;
                    junk[6] = 0;
                    junk[7] = 0;
                }
            }
            try {
                decodeAll(junk, 0, r);
            } catch (MigrationException e) {
                assertTrue(e.failure() instanceof MigrationFailure.StreamCorrupt, e.getMessage());
            } catch (RuntimeException e) {
                fail("decoder crashed on input " + i + ": " + e);
            }
        }
    }

    @Test
    void mutatedValidStreamsDecodeExactlyOrFail() throws Exception {
        byte[] valid = validStream(1);
        List<Frame> expected = decodeAll(valid, 1, new SplittableRandom(1));
        assertTrue(expected.size() > 5, "the stream has " + expected.size() + " frames");
        SplittableRandom r = new SplittableRandom(SEED + 1);
        int failed = 0;
        for (int i = 0; i < 400; i++) {
            byte[] m = valid.clone();
            switch (r.nextInt(4)) {
                case 0:
                    m[r.nextInt(m.length)] ^= (byte) (1 << r.nextInt(8));
                    break;
                case 1:
                    m = Arrays.copyOf(m, r.nextInt(m.length));
                    break;
                case 2:
                    int at = r.nextInt(m.length - 8);
                    System.arraycopy(m, at, m, r.nextInt(m.length - 8), 8);
                    break;
                default:
                    for (int k = 0; k < 4; k++) {
                        m[r.nextInt(m.length)] = (byte) r.nextInt();
                    }
            }
            try {
                List<Frame> got = decodeAll(m, 1, r);
                // Anything that decodes completely must be a prefix of the real stream, frame for frame.
                assertTrue(got.size() <= expected.size());
                for (int k = 0; k < got.size(); k++) {
                    assertEquals(expected.get(k).command(), got.get(k).command());
                    assertEquals(expected.get(k).payload(), got.get(k).payload(), "frame " + k + " of mutation " + i);
                }
            } catch (MigrationException e) {
                failed++;
            } catch (RuntimeException e) {
                fail("decoder crashed on mutation " + i + ": " + e);
            }
        }
        assertTrue(failed > 200, "all but truncations (a clean prefix) are caught: " + failed + " of 400");
    }

    @Test
    void theReceiversInPlaceDecodingMatchesTheCopyingDecoderOnValidAndMutatedStreams() throws Exception {
        byte[] valid = validStream(1);
        List<Frame> expected = decodeAll(valid, 1, new SplittableRandom(1));
        // 8 MiB as the receiver has it; 6000 bytes: RAM frames no longer fit and go through the copying path.
        for (int capacity : new int[] {8 << 20, 6000}) {
            SplittableRandom r = new SplittableRandom(SEED + 3 + capacity);
            ByteBuffer[] buffers = {ByteBuffer.allocateDirect(capacity), ByteBuffer.allocate(capacity)};
            List<Frame> whole = decodeAllInPlace(valid, 1, r, buffers[0]);
            assertEquals(expected.size(), whole.size());
            for (int k = 0; k < whole.size(); k++) {
                assertEquals(expected.get(k).command(), whole.get(k).command());
                assertEquals(expected.get(k).payload(), whole.get(k).payload(), "frame " + k + " in place, capacity " + capacity);
            }
            int failed = 0;
            for (int i = 0; i < 200; i++) {
                byte[] m = valid.clone();
                if (r.nextInt(5) == 0) {
                    m = Arrays.copyOf(m, r.nextInt(m.length));
                } else {
                    for (int k = 1 + r.nextInt(3); k > 0; k--) {
                        m[r.nextInt(m.length)] ^= (byte) (1 + r.nextInt(255));
                    }
                }
                try {
                    List<Frame> got = decodeAllInPlace(m, 1, r, buffers[r.nextInt(2)]);
                    assertTrue(got.size() <= expected.size());
                    for (int k = 0; k < got.size(); k++) {
                        assertEquals(expected.get(k).command(), got.get(k).command());
                        assertEquals(expected.get(k).payload(), got.get(k).payload(), "frame " + k + " of mutation " + i);
                    }
                } catch (MigrationException e) {
                    assertTrue(e.failure() instanceof MigrationFailure.StreamCorrupt, e.getMessage());
                    failed++;
                } catch (RuntimeException e) {
                    fail("in-place decoder crashed on mutation " + i + " (capacity " + capacity + "): " + e);
                }
            }
            assertTrue(failed > 100, "corruptions are caught in place too: " + failed + " of 200");
        }
        SplittableRandom r = new SplittableRandom(SEED + 4);
        ByteBuffer[] buffers = {ByteBuffer.allocateDirect(8 << 20), ByteBuffer.allocate(100), ByteBuffer.allocate(3000)};
        for (int i = 0; i < 1000; i++) {
            byte[] junk = new byte[4 + r.nextInt(8192)];
            r.nextBytes(junk);
            ByteBuffer.wrap(junk).putInt(0, Wire.MAGIC); // a plausible start, so the later checks run too
            try {
                decodeAllInPlace(junk, 0, r, buffers[r.nextInt(3)]);
            } catch (MigrationException e) {
                assertTrue(e.failure() instanceof MigrationFailure.StreamCorrupt, e.getMessage());
            } catch (RuntimeException e) {
                fail("in-place decoder crashed on random input " + i + ": " + e);
            }
        }
    }

    @Test
    void malformedRamPayloadsInstallNothing() {
        SplittableRandom r = new SplittableRandom(SEED + 2);
        try (GuestMemory mem = GuestMemory.allocate(2 << 20)) {
            for (long p = 0; p < mem.pageCount(); p++) {
                mem.putLong(p * 4096 + 8, p + 1);
            }
            long before = mem.digest();
            RamBatch batch = new RamBatch();
            int accepted = 0;
            for (int i = 0; i < 5000; i++) {
                ByteBuffer b = ByteBuffer.allocate(Wire.MAX_RAM_BYTES);
                int codec = r.nextInt(6);
                int count = r.nextInt(10) == 0 ? r.nextInt(1000) : 1 + r.nextInt(4);
                b.put((byte) codec).putShort((short) count);
                long page = r.nextInt(600);
                for (int k = 0; k < count && b.remaining() > 5000; k++) {
                    page += r.nextInt(10) == 0 ? -1 : 1 + r.nextInt(300);
                    b.putInt((int) page);
                    if (codec == CodecId.RAW.wire) {
                        byte[] raw = new byte[r.nextInt(20) == 0 ? r.nextInt(4096) : 4096];
                        r.nextBytes(raw);
                        b.put(raw);
                    } else if (codec == CodecId.LZ4.wire || codec == CodecId.XOR_LZ4.wire) {
                        int len = r.nextInt(5000);
                        b.putShort((short) len);
                        byte[] junk = new byte[Math.min(len, r.nextInt(4100))];
                        r.nextBytes(junk);
                        b.put(junk);
                    }
                }
                b.flip();
                try {
                    batch.decode(b, 2, mem, 0, 2, r.nextBoolean());
                    accepted++;
                    for (int k = 0; k < batch.count(); k++) {
                        assertTrue(batch.page(k) < mem.pageCount() && Wire.channelOf(batch.page(k), 2) == 0);
                    }
                } catch (IllegalArgumentException expectedRejection) {
                    // refused, as it should be
                } catch (RuntimeException e) {
                    fail("RAM decoder crashed on payload " + i + ": " + e);
                }
            }
            assertEquals(before, mem.digest(), "decoding never writes guest memory");
            assertTrue(accepted < 5000, "most junk is refused (" + accepted + " accepted)");
        }
    }
}
