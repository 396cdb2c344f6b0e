package io.ferryvm.migration;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One side's journal writes for one migration, in the order they were asked for. A write can be started
 * without waiting for it to be durable ({@link #start}); every later write lands after it, whether or
 * not it failed. Only the callers know when that is safe: each says why where it does it (a durable
 * record the verdict does not depend on, or one another record already covers).
 */
final class JournalTail {
    private static final AtomicInteger THREADS = new AtomicInteger();
    /** fsync waits on the disk, not on a core: one thread per write in flight is cheap. */
    private static final ExecutorService IO = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "ferry-journal-" + THREADS.incrementAndGet());
        t.setDaemon(true);
        return t;
    });

    private final MigrationJournal journal;
    private CompletableFuture<Void> tail = CompletableFuture.completedFuture(null);
    private volatile long slowestNanos;

    JournalTail(MigrationJournal journal) {
        this.journal = journal;
    }

    /** Starts writing e after every write asked for before; the future completes once e is durable. */
    synchronized CompletableFuture<Void> start(MigrationJournal.Entry e) {
        tail = tail.handle((v, x) -> null).thenRunAsync(() -> {
            long t0 = System.nanoTime();
            journal.record(e);
            long took = System.nanoTime() - t0;
            if (took > slowestNanos) {
                slowestNanos = took;
            }
        }, IO);
        return tail;
    }

    /** The slowest durable write so far (an estimate of what one more costs here). */
    long slowestNanos() {
        return slowestNanos;
    }

    /** Writes e after every earlier write and returns once it is durable (a failure throws CoreException). */
    void write(MigrationJournal.Entry e) {
        await(start(e));
    }

    /** Waits for a started write; rethrows its failure as it was thrown (CoreException). */
    static void await(CompletableFuture<Void> f) {
        try {
            f.join();
        } catch (CompletionException x) {
            if (x.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw x;
        }
    }
}
