package io.ferryvm.core.machine;

import io.ferryvm.core.CoreException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Post-copy: which guest pages have arrived on the target. A vCPU touching a missing page asks the
 * {@link Fetcher} for it (with priority) and blocks only itself until the page is installed; the other
 * vCPUs and the background stream go on.
 *
 * <p>Race argument: the installer writes the page, then sets its present bit (volatile), then unparks
 * every waiter. A waiter registers itself, then re-checks the bit before parking, so an install between
 * its first check and its park is never missed.
 */
public final class MissingPages {
    /** Asks the source for a page; called on the faulting vCPU thread, must not block for long. */
    @FunctionalInterface
    public interface Fetcher {
        void request(long page);
    }

    private static final VarHandle WORDS = MethodHandles.arrayElementVarHandle(long[].class);

    private final long pageCount;
    private final long[] present;
    private final AtomicLong missing;
    private final Set<Thread> waiters = ConcurrentHashMap.newKeySet();
    private final AtomicLong faults = new AtomicLong();
    private volatile Fetcher fetcher;
    private volatile String failure;

    /** All pages missing except those already in {@code received}. */
    public MissingPages(long pageCount, DirtyBitmap received, Fetcher fetcher) {
        this.pageCount = pageCount;
        this.present = received.toWords();
        this.missing = new AtomicLong(pageCount - received.count());
        this.fetcher = fetcher;
    }

    public boolean isPresent(long page) {
        return ((long) WORDS.getVolatile(present, (int) (page >>> 6)) & (1L << page)) != 0;
    }

    /** Marks a page present after its content was written; returns false if it already was. */
    public boolean markPresent(long page) {
        if (page < 0 || page >= pageCount) {
            throw new IndexOutOfBoundsException("page " + page + " outside 0.." + (pageCount - 1));
        }
        long bit = 1L << page;
        long old = (long) WORDS.getAndBitwiseOr(present, (int) (page >>> 6), bit);
        if ((old & bit) != 0) {
            return false;
        }
        missing.decrementAndGet();
        for (Thread t : waiters) {
            LockSupport.unpark(t);
        }
        return true;
    }

    public long missingCount() {
        return missing.get();
    }

    /** vCPU faults taken so far (pages a vCPU had to wait for). */
    public long faultCount() {
        return faults.get();
    }

    /** The post-copy stream is lost: every waiting vCPU fails (the guest cannot continue anywhere). */
    public void fail(String reason) {
        failure = reason;
        for (Thread t : waiters) {
            LockSupport.unpark(t);
        }
    }

    void awaitPresent(long page) {
        if (isPresent(page)) {
            return;
        }
        faults.incrementAndGet();
        Thread me = Thread.currentThread();
        waiters.add(me);
        try {
            fetcher.request(page);
            while (!isPresent(page)) {
                String f = failure;
                if (f != null) {
                    throw new CoreException(CoreException.Kind.GUEST_CRASHED, "post-copy page " + page + " can never arrive: " + f);
                }
                LockSupport.park(this);
            }
        } finally {
            waiters.remove(me);
        }
    }
}
