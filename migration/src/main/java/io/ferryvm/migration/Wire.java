package io.ferryvm.migration;

import io.ferryvm.core.machine.GuestMemory;
import io.ferryvm.core.state.FormatVersion;

/**
 * Every wire constant of the migration stream, in one place.
 *
 * <pre>
 * frame header, 20 bytes, big-endian:
 *   0  u32 magic "FRMG"
 *   4  u8  command            (see {@link Command})
 *   5  u8  flags              (0: none defined yet; anything else is refused)
 *   6  u16 channel index      (the channel this frame travels on)
 *   8  u32 sequence           (per channel and direction, from 0, +1 per frame)
 *  12  u32 payload length     (checked against the command's bound before anything is allocated)
 *  16  u32 CRC32C             (over header bytes 0..15, then the payload)
 *  20  payload
 * </pre>
 */
final class Wire {
    static final int MAGIC = 0x46524D47; // "FRMG"
    static final int HEADER_BYTES = 20;
    /**
     * v4 (current): the per-MiB digests that finish compares are the CRC32C of each chunk (v2, v3:
     * xxHash64), the cheaper of the two per byte here, and both sides hash every MiB they move. v3 made the
     * target acknowledge every pre-copy SYNC but the final one (ACK kind {@link #ACK_SYNC}, value the
     * iteration) once that iteration's pages are installed and hashed, so the source times an iteration end
     * to end, and a source that goes post-copy journal POSTCOPY durably before it pauses, so the target
     * starts the guest without waiting for its own entry. v2 added the XOR-delta codec; v1 carried zero, raw
     * and LZ4 pages only. A target reads v2..v4 and speaks to an older source as it did (xxHash64 digests;
     * for v2 no SYNC acknowledgements and POSTCOPY durable here before the guest runs), so nodes up to two
     * releases behind can still migrate to this one; v1 is refused at prepare.
     */
    static final FormatVersion PROTOCOL = new FormatVersion("migration", 4, 2);

    static final int PAGE = GuestMemory.PAGE_SIZE;
    /** Pages per 1 MiB digest chunk; pages are also partitioned over channels by chunk. */
    static final int CHUNK_PAGES = GuestMemory.chunkPages();
    static final int MAX_BATCH_PAGES = 256;

    static final int HELLO_BYTES = 2 + 16 + 16 + 2 + 2 + 8 + 4;
    static final int ACK_BYTES = 1 + 8;
    static final int SYNC_BYTES = 4 + 1 + 8;
    static final int MAX_ABORT_BYTES = 1024;
    static final int PAGE_REQUEST_BYTES = 4;
    /** RAM: u8 codec, u16 count, then per page u32 page number and the codec's bytes (at most a raw page + u16). */
    static final int MAX_RAM_BYTES = 3 + MAX_BATCH_PAGES * (4 + 2 + PAGE);
    static final int MAX_STATE_BYTES = (1 << 20) + 256;
    /** DIGEST and DIRTY_MAP: u32 first index, u32 count, count u64 values. */
    static final int MAX_WORDS_PER_FRAME = 1 << 16;
    static final int MAX_WORDS_BYTES = 8 + 8 * MAX_WORDS_PER_FRAME;
    static final int MAX_PAYLOAD = MAX_RAM_BYTES;

    static final int ACK_HELLO = 1;
    static final int ACK_READY = 2;
    static final int ACK_POSTCOPY_RUNNING = 3;
    /** v3: the target installed and hashed the pages of the SYNC's iteration (value: the iteration). */
    static final int ACK_SYNC = 4;

    private Wire() {}

    /** The bound on one command's payload: a longer length field fails the stream before allocation. */
    static int maxPayload(Command c) {
        switch (c) {
            case HELLO:
                return HELLO_BYTES;
            case ACK:
                return ACK_BYTES;
            case RAM:
                return MAX_RAM_BYTES;
            case SYNC:
                return SYNC_BYTES;
            case STATE:
                return MAX_STATE_BYTES;
            case DIGEST:
            case DIRTY_MAP:
                return MAX_WORDS_BYTES;
            case PAGE_REQUEST:
                return PAGE_REQUEST_BYTES;
            case ABORT:
                return 2 + MAX_ABORT_BYTES;
            case POSTCOPY:
            case DONE:
                return 0;
            default:
                return -1;
        }
    }

    /** The channel that carries a page: whole 1 MiB chunks round-robin, so each channel's work is independent. */
    static int channelOf(long page, int channels) {
        return (int) ((page / CHUNK_PAGES) % channels);
    }
}
