package io.ferryvm.ovf;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs grain (de)compression on all cores while one thread streams: at most {@code inFlight} tasks wait, so
 * memory stays bounded whatever the disk size. The first failure is kept and re-thrown to the streaming
 * thread, which stops reading.
 */
final class GrainPool implements AutoCloseable {
    interface Task {
        void run() throws Exception;
    }

    private final ExecutorService exec;
    private final Semaphore permits;
    private final int inFlight;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    GrainPool(int threads) {
        this.exec = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "ferry-grains");
            t.setDaemon(true);
            return t;
        });
        this.inFlight = threads * 8;
        this.permits = new Semaphore(inFlight);
    }

    static int defaultThreads() {
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    /** Runs a task whose result nobody waits for (positional writes). */
    void submit(Task task) throws InterruptedException {
        rethrow();
        permits.acquire();
        exec.execute(() -> {
            try {
                if (failure.get() == null) {
                    task.run();
                }
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            } finally {
                permits.release();
            }
        });
    }

    /** Runs a task whose result is consumed in order by the caller (which must release with {@link #done()}). */
    <T> Future<T> call(Callable<T> task) throws InterruptedException {
        rethrow();
        permits.acquire();
        return exec.submit(task);
    }

    void done() {
        permits.release();
    }

    /** Waits for every submitted task and re-throws the first failure. */
    void drain() throws InterruptedException {
        permits.acquire(inFlight);
        permits.release(inFlight);
        rethrow();
    }

    void rethrow() {
        Throwable t = failure.get();
        if (t != null) {
            if (t instanceof OvfException o) {
                throw new OvfException(o.kind(), o.getMessage(), o);
            }
            throw new OvfException(OvfException.Kind.IO, t.toString(), t);
        }
    }

    static <T> T get(Future<T> f) throws InterruptedException {
        try {
            return f.get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof OvfException o) {
                throw new OvfException(o.kind(), o.getMessage(), o);
            }
            throw new OvfException(OvfException.Kind.IO, String.valueOf(c), c);
        }
    }

    @Override
    public void close() {
        exec.shutdownNow();
    }
}
