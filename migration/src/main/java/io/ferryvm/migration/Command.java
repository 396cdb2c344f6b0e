package io.ferryvm.migration;

/**
 * The frame types of the migration stream, with fixed codes: a code is never reused, 0 is reserved so a
 * zeroed header never parses. The direction says who may send it; a receiver refuses the others.
 */
enum Command {
    INVALID(0, Direction.NONE),
    /** First frame on every channel: protocol version, migration id, the one-time token, channel i of n. */
    HELLO(1, Direction.TO_TARGET),
    /** Target's answer on a channel: HELLO accepted, stream received (READY), post-copy running. */
    ACK(2, Direction.TO_SOURCE),
    /** A batch of pages, all of one codec. */
    RAM(3, Direction.TO_TARGET),
    /** End of one iteration on this channel, with the number of pages it carried. */
    SYNC(4, Direction.TO_TARGET),
    /** vCPU and device state (engine-core's StateCodec bytes), channel 0 only. */
    STATE(5, Direction.TO_TARGET),
    /** Per-MiB digests of the paused source's memory, channel 0 only. */
    DIGEST(6, Direction.TO_TARGET),
    /** Post-copy: a slice of the bitmap of pages the target does not have yet, channel 0 only. */
    DIRTY_MAP(7, Direction.TO_TARGET),
    /** Post-copy: the target may run the guest now; the missing pages follow. */
    POSTCOPY(8, Direction.TO_TARGET),
    /** Post-copy return path: a vCPU waits for this page, send it first. */
    PAGE_REQUEST(9, Direction.TO_SOURCE),
    /** Either side abandons the migration; the payload says why. */
    ABORT(10, Direction.BOTH),
    /** The source sends nothing more on this channel. */
    DONE(11, Direction.TO_TARGET);

    enum Direction { NONE, TO_TARGET, TO_SOURCE, BOTH }

    private static final Command[] BY_CODE = new Command[256];

    static {
        for (Command c : values()) {
            BY_CODE[c.code] = c;
        }
    }

    final int code;
    final Direction direction;

    Command(int code, Direction direction) {
        this.code = code;
        this.direction = direction;
    }

    /** The command of a code, or null for an unknown code (and for INVALID). */
    static Command of(int code) {
        Command c = code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
        return c == INVALID ? null : c;
    }

    boolean mayReach(boolean target) {
        return direction == Direction.BOTH || direction == (target ? Direction.TO_TARGET : Direction.TO_SOURCE);
    }
}
