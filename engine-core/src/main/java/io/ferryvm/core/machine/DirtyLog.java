package io.ferryvm.core.machine;

import io.ferryvm.core.CoreException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Which guest pages were written since the last harvest: what pre-copy migration re-sends.
 *
 * <p>Implementation notes. Two kinds of writers, two bitmaps, one rule: mark <em>after</em> the write.
 * <ul>
 *   <li>vCPUs mark a private {@link PageTracker} with plain stores (the guest's hot path). A harvest
 *       asks each vCPU, at its next safe point, to swap in a clean bitmap; the swap runs on the vCPU
 *       thread, so everything it wrote before is visible to the harvester. This is KVM's per-vCPU dirty
 *       ring idea, without a ring.</li>
 *   <li>Other writers (devices, the migration receiver, tests) mark the shared bitmap with an atomic OR.
 *       The harvester clears shared words with an atomic swap. The OR is a full fence, so the write
 *       before it is visible to whoever swaps the bit out; a write whose mark lands after the swap stays
 *       marked for the next harvest.</li>
 * </ul>
 * Race argument for both: a page is either harvested after its write became visible, or stays dirty
 * for the next harvest. A harvest that races a write re-sends the page, never loses it.
 */
public final class DirtyLog {
    private static final VarHandle WORDS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final long HANDSHAKE_TIMEOUT_MS = 30_000;

    private final long pageCount;
    private final long[] shared;
    private final List<PageTracker> trackers = new CopyOnWriteArrayList<>();
    private final ReentrantLock lock = new ReentrantLock();
    private volatile boolean enabled;

    DirtyLog(long pageCount) {
        this.pageCount = pageCount;
        this.shared = new long[DirtyBitmap.wordsFor(pageCount)];
    }

    public long pageCount() {
        return pageCount;
    }

    public boolean isEnabled() {
        return enabled;
    }

    /**
     * Starts logging. With {@code allDirty} every page starts dirty (a migration's first pass), otherwise
     * only writes from now on are reported.
     */
    public void start(boolean allDirty) {
        lock.lock();
        try {
            for (int i = 0; i < shared.length; i++) {
                WORDS.getAndSet(shared, i, 0L);
            }
            handshake(new ArrayList<>(trackers), t -> {
                t.swap();
                t.setEnabled(true);
                return null;
            });
            enabled = true;
            if (allDirty) {
                long[] all = DirtyBitmap.all(pageCount).toWords();
                for (int i = 0; i < all.length; i++) {
                    WORDS.getAndBitwiseOr(shared, i, all[i]);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Stops logging and forgets what was marked. */
    public void stop() {
        lock.lock();
        try {
            enabled = false;
            handshake(new ArrayList<>(trackers), t -> {
                t.setEnabled(false);
                t.swap();
                return null;
            });
            for (int i = 0; i < shared.length; i++) {
                WORDS.getAndSet(shared, i, 0L);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Harvest-and-clear as one step: the pages dirtied since the previous harvest (or start). */
    public DirtyBitmap harvest() {
        lock.lock();
        try {
            long[] out = new long[shared.length];
            for (int i = 0; i < shared.length; i++) {
                if ((long) WORDS.getOpaque(shared, i) != 0) {
                    out[i] = (long) WORDS.getAndSet(shared, i, 0L);
                }
            }
            if (enabled) {
                List<PageTracker> ts = new ArrayList<>(trackers);
                List<long[]> handed = handshake(ts, PageTracker::swap);
                for (int k = 0; k < ts.size(); k++) {
                    long[] bits = handed.get(k);
                    for (int i = 0; i < bits.length; i++) {
                        long v = bits[i];
                        if (v != 0) {
                            out[i] |= v;
                            bits[i] = 0;
                        }
                    }
                    ts.get(k).giveBack(bits);
                }
            }
            return new DirtyBitmap(pageCount, out);
        } finally {
            lock.unlock();
        }
    }

    /** Shared-path mark, after the write. */
    void markShared(long page) {
        if (enabled) {
            WORDS.getAndBitwiseOr(shared, (int) (page >>> 6), 1L << page);
        }
    }

    PageTracker register(PageTracker.Owner owner) {
        PageTracker t = new PageTracker(owner, pageCount);
        lock.lock();
        try {
            t.setEnabled(enabled); // before the owner thread starts: Thread.start publishes it
            trackers.add(t);
        } finally {
            lock.unlock();
        }
        return t;
    }

    /** Owner thread, when its vCPU stops for good: the tracker's marks move to the shared bitmap. */
    void retire(PageTracker t) {
        long[] bits = t.swap();
        for (int i = 0; i < bits.length; i++) {
            if (bits[i] != 0) {
                WORDS.getAndBitwiseOr(shared, i, bits[i]);
            }
        }
        trackers.remove(t);
    }

    private static <T> List<T> handshake(List<PageTracker> ts, Function<PageTracker, T> task) {
        List<CompletableFuture<T>> fs = new ArrayList<>(ts.size());
        for (PageTracker t : ts) {
            fs.add(t.owner().onOwnerThread(() -> task.apply(t)));
        }
        List<T> results = new ArrayList<>(ts.size());
        for (CompletableFuture<T> f : fs) {
            try {
                results.add(f.get(HANDSHAKE_TIMEOUT_MS, TimeUnit.MILLISECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CoreException(CoreException.Kind.TIMEOUT, "interrupted while a vCPU handed over its dirty log");
            } catch (ExecutionException e) {
                throw new CoreException(CoreException.Kind.TIMEOUT,
                        "a vCPU failed to hand over its dirty log: " + e.getCause(), e.getCause());
            } catch (TimeoutException e) {
                throw new CoreException(CoreException.Kind.TIMEOUT,
                        "a vCPU did not reach a safe point within " + HANDSHAKE_TIMEOUT_MS + " ms to hand over its dirty log");
            }
        }
        return results;
    }
}
