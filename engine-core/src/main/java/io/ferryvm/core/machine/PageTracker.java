package io.ferryvm.core.machine;

import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * A vCPU's private dirty bitmap. Only the owning vCPU thread marks it, with plain stores; the
 * {@link DirtyLog} takes it over by running a swap <em>on that thread</em> at a safe point, so every write
 * the vCPU made before the swap happens-before the harvest that reads the page (no fences on the write
 * path, and no write lost: a write after the swap lands in the fresh bitmap).
 */
final class PageTracker {
    /** Runs a task on the tracker's owner thread at its next safe point (or directly when it is quiescent). */
    interface Owner {
        <T> CompletableFuture<T> onOwnerThread(Supplier<T> task);
    }

    private final Owner owner;
    private final int words;
    // Owner-thread state: read and written only by the owner thread, or by a task it runs.
    private long[] active;
    private boolean enabled;
    // Handed back by the harvester (cleared) before the next swap request; published by the task queue.
    private long[] spare;

    PageTracker(Owner owner, long pageCount) {
        this.owner = owner;
        this.words = DirtyBitmap.wordsFor(pageCount);
        this.active = new long[words];
        this.spare = new long[words];
    }

    Owner owner() {
        return owner;
    }

    /** Owner thread only: called after the write. */
    void mark(long page) {
        if (enabled) {
            // Unconditional OR: no data-dependent branch, which would mispredict on random writes and
            // flush the guest's in-flight stores.
            active[(int) (page >>> 6)] |= 1L << page;
        }
    }

    /** Owner thread only. */
    void setEnabled(boolean on) {
        enabled = on;
    }

    /** Owner thread only: returns the bitmap marked so far and continues on the (clear) spare. */
    long[] swap() {
        long[] full = active;
        active = spare != null ? spare : new long[words];
        spare = null;
        return full;
    }

    /** Harvester: gives back a cleared bitmap for the next swap. */
    void giveBack(long[] cleared) {
        spare = cleared;
    }

    int words() {
        return words;
    }
}
