package io.ferryvm.chaos;

import java.nio.ByteBuffer;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * Migration frames as a hostile source would write them, from the wire format the migration module
 * documents ({@code Wire}: 20-byte header, big-endian: magic "FRMG", command, flags, channel, sequence,
 * length, CRC32C over header bytes 0..15 and the payload). Written here on purpose, not borrowed from the
 * product: a fuzzer that shares the encoder's bugs finds none of them.
 */
final class Frames {
    static final int MAGIC = 0x46524D47;
    static final int HELLO = 1;
    static final int RAM = 3;
    static final int SYNC = 4;
    static final int STATE = 5;
    static final int DIGEST = 6;
    static final int DIRTY_MAP = 7;
    static final int POSTCOPY = 8;
    static final int ABORT = 10;
    static final int DONE = 11;
    static final int PAGE = 4096;

    private Frames() {}

    /** One frame with a correct CRC over whatever header fields it is given. */
    static byte[] frame(int command, int flags, int channel, long sequence, byte[] payload, long declaredLength) {
        ByteBuffer b = ByteBuffer.allocate(20 + payload.length);
        b.putInt(MAGIC).put((byte) command).put((byte) flags).putShort((short) channel).putInt((int) sequence)
                .putInt((int) declaredLength);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, 16);
        crc.update(payload, 0, payload.length);
        b.putInt((int) crc.getValue()).put(payload);
        return b.array();
    }

    static byte[] frame(int command, int channel, long sequence, byte[] payload) {
        return frame(command, 0, channel, sequence, payload, payload.length);
    }

    /** HELLO: version, migration id, token, channel index and count, memory size, page size. */
    static byte[] hello(int version, UUID migration, byte[] token, int index, int count, long memoryBytes) {
        ByteBuffer p = ByteBuffer.allocate(2 + 16 + 16 + 2 + 2 + 8 + 4);
        p.putShort((short) version).putLong(migration.getMostSignificantBits()).putLong(migration.getLeastSignificantBits())
                .put(token).putShort((short) index).putShort((short) count).putLong(memoryBytes).putInt(PAGE);
        return frame(HELLO, index, 0, p.array());
    }

    /** A RAM payload of raw pages (codec 2), each filled with one byte value. */
    static byte[] rawPages(long[] pages, byte fill) {
        ByteBuffer p = ByteBuffer.allocate(3 + pages.length * (4 + PAGE));
        p.put((byte) 2).putShort((short) pages.length);
        for (long page : pages) {
            p.putInt((int) page);
            for (int i = 0; i < PAGE; i++) {
                p.put(fill);
            }
        }
        return p.array();
    }

    /** A RAM payload of zero pages (codec 1: no bytes per page). */
    static byte[] zeroPages(long[] pages) {
        ByteBuffer p = ByteBuffer.allocate(3 + pages.length * 4);
        p.put((byte) 1).putShort((short) pages.length);
        for (long page : pages) {
            p.putInt((int) page);
        }
        return p.array();
    }

    /** SYNC: iteration, final flag, pages sent since the last SYNC. */
    static byte[] sync(long iteration, boolean last, long pages) {
        return ByteBuffer.allocate(13).putInt((int) iteration).put((byte) (last ? 1 : 0)).putLong(pages).array();
    }
}
