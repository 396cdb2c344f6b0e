package io.ferryvm.migration;

import java.nio.ByteBuffer;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

/**
 * How one page is encoded inside a RAM frame, selected by the frame's codec id. Every entry starts with
 * its u32 page number (read by the receiver); the codec owns the bytes after it. Decoders treat input
 * as hostile: each length is checked against the bytes present and the page size, LZ4 goes through the
 * safe decompressor and must produce exactly one page; any violation throws IllegalArgumentException,
 * which the receiver turns into a StreamCorrupt failure before anything is installed.
 */
sealed interface PageCodec permits PageCodec.ZeroCodec, PageCodec.RawCodec, PageCodec.Lz4Codec, PageCodec.XorLz4Codec {
    LZ4SafeDecompressor UNLZ4 = LZ4Factory.fastestInstance().safeDecompressor();

    CodecId id();

    /** The first protocol version that has this codec. */
    int sinceVersion();

    /** XOR-delta needs the target's current copy of the page in out before decode. */
    default boolean needsBase() {
        return false;
    }

    /**
     * Decodes one entry (after its page number) into out at [off, off + PAGE) (absolute; out's position is
     * left alone); scratch is one page of working space.
     */
    void decode(ByteBuffer in, ByteBuffer out, int off, ByteBuffer scratch);

    static PageCodec of(CodecId id) {
        switch (id) {
            case ZERO:
                return ZeroCodec.INSTANCE;
            case RAW:
                return RawCodec.INSTANCE;
            case LZ4:
                return Lz4Codec.INSTANCE;
            default:
                return XorLz4Codec.INSTANCE;
        }
    }

    /** u16 stored length, 1..PAGE-1 bytes of LZ4 block data decoding to exactly one page. */
    static void lz4Page(ByteBuffer in, ByteBuffer dst, int off) {
        if (in.remaining() < 2) {
            throw new IllegalArgumentException("LZ4 entry truncated before its length");
        }
        int len = in.getShort() & 0xFFFF;
        if (len < 1 || len >= Wire.PAGE) {
            throw new IllegalArgumentException("LZ4 entry length " + len + " outside 1.." + (Wire.PAGE - 1));
        }
        if (len > in.remaining()) {
            throw new IllegalArgumentException("LZ4 entry of " + len + " bytes, " + in.remaining() + " left in the frame");
        }
        int n;
        try {
            n = UNLZ4.decompress(in, in.position(), len, dst, off, Wire.PAGE);
        } catch (LZ4Exception e) {
            throw new IllegalArgumentException("LZ4 data is corrupt");
        }
        if (n != Wire.PAGE) {
            throw new IllegalArgumentException("LZ4 data decodes to " + n + " bytes, not a page");
        }
        in.position(in.position() + len);
    }

    /** No payload: the page is all zeros. */
    final class ZeroCodec implements PageCodec {
        static final ZeroCodec INSTANCE = new ZeroCodec();

        @Override
        public CodecId id() {
            return CodecId.ZERO;
        }

        @Override
        public int sinceVersion() {
            return 1;
        }

        @Override
        public void decode(ByteBuffer in, ByteBuffer out, int off, ByteBuffer scratch) {
            for (int i = 0; i < Wire.PAGE; i += 8) {
                out.putLong(off + i, 0L);
            }
        }
    }

    /** The page's 4096 bytes as they are. */
    final class RawCodec implements PageCodec {
        static final RawCodec INSTANCE = new RawCodec();

        @Override
        public CodecId id() {
            return CodecId.RAW;
        }

        @Override
        public int sinceVersion() {
            return 1;
        }

        @Override
        public void decode(ByteBuffer in, ByteBuffer out, int off, ByteBuffer scratch) {
            if (in.remaining() < Wire.PAGE) {
                throw new IllegalArgumentException("raw page truncated: " + in.remaining() + " bytes left");
            }
            out.put(off, in, in.position(), Wire.PAGE);
            in.position(in.position() + Wire.PAGE);
        }
    }

    /** LZ4 block of the page; only used when it is smaller than the page. */
    final class Lz4Codec implements PageCodec {
        static final Lz4Codec INSTANCE = new Lz4Codec();

        @Override
        public CodecId id() {
            return CodecId.LZ4;
        }

        @Override
        public int sinceVersion() {
            return 1;
        }

        @Override
        public void decode(ByteBuffer in, ByteBuffer out, int off, ByteBuffer scratch) {
            lz4Page(in, out, off);
        }
    }

    /** LZ4 block of (new page XOR the copy the target already has): re-dirtied pages with small changes. */
    final class XorLz4Codec implements PageCodec {
        static final XorLz4Codec INSTANCE = new XorLz4Codec();

        @Override
        public CodecId id() {
            return CodecId.XOR_LZ4;
        }

        @Override
        public int sinceVersion() {
            return 2;
        }

        @Override
        public boolean needsBase() {
            return true;
        }

        @Override
        public void decode(ByteBuffer in, ByteBuffer out, int off, ByteBuffer scratch) {
            lz4Page(in, scratch, 0);
            for (int i = 0; i < Wire.PAGE; i += 8) {
                out.putLong(off + i, out.getLong(off + i) ^ scratch.getLong(i));
            }
        }
    }
}
