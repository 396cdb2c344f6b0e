package io.ferryvm.core.machine;

import io.ferryvm.core.CoreException;
import io.ferryvm.core.Ticker;
import io.ferryvm.core.device.serial.SerialDevice;
import io.ferryvm.core.state.Migratable;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One virtual CPU: a thread running a {@link GuestProgram} in batches of steps.
 *
 * <p>Implementation notes. Between batches the thread passes a <em>safe point</em>: it runs queued
 * tasks ({@link #onOwnerThread}: dirty-log swaps, register snapshots, re-pinning), parks while paused,
 * and paces itself. Everything the guest owns (registers, step count, dirty bitmap) is touched only by
 * this thread or by tasks it runs, so none of it needs locks; other threads see it through the task
 * futures. When the thread is not running (not started yet, or exited), tasks run on the caller's thread
 * under the task lock instead, which is safe because nothing else touches the state then.
 *
 * <p>Pacing: a rate limit (the program's page writes per second, i.e. its dirty rate) is a virtual
 * clock that may run at most 1 ms ahead and never catches up more than 10 ms of lost time; the
 * throttle (auto-converge) follows QEMU: run a 10 ms slice, then sleep slice * t / (100 - t).
 */
public final class Vcpu implements PageTracker.Owner, Migratable<VcpuState> {
    /** What the vCPU thread is doing right now (like QEMU's "info cpus"), for reports and tests. */
    public enum RunState { NEW, RUNNING, HALTED, RATE_LIMITED, THROTTLED, PAUSED, STOPPED, CRASHED }

    private static final Logger LOG = LoggerFactory.getLogger(Vcpu.class);
    static final long SLICE_NANOS = 10_000_000L;
    private static final long AHEAD_NANOS = 1_000_000L;
    private static final long CATCH_UP_NANOS = 10_000_000L;
    private static final int MAX_BATCH = 1024;

    private final int index;
    private final String name;
    private final GuestProgram program;
    private final long[] regs;
    private final GuestContext ctx;
    private final PageTracker tracker;
    private final DirtyLog dirtyLog;
    private final CpuBinder binder;
    private final Ticker ticker;

    // Owner-thread state.
    private long steps;
    private double nextStepNanos;
    private long sliceStartNanos;

    private final Object taskLock = new Object();
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private volatile boolean pending;
    private Thread thread; // guarded by taskLock
    private boolean serving; // guarded by taskLock: the thread is alive and runs queued tasks

    private volatile boolean pauseRequested;
    private volatile boolean stopRequested;
    private volatile int throttlePercent;
    private volatile long stepLimit = Long.MAX_VALUE;
    private volatile List<Integer> cpus;
    private volatile long publishedSteps;
    private volatile long publishedPageWrites;
    private volatile int tid = -1;
    private volatile Throwable crash;
    private volatile RunState runState = RunState.NEW;

    Vcpu(String vmName, VcpuState state, GuestProgram program, GuestMemory memory, SerialDevice serial, int vcpuCount,
            CpuBinder binder, List<Integer> cpus, Ticker ticker) {
        this.index = state.index();
        this.name = "vcpu-" + vmName + "-" + index;
        this.program = program;
        this.regs = state.regs();
        this.steps = state.steps();
        this.publishedSteps = steps;
        this.dirtyLog = memory.dirtyLog();
        this.tracker = dirtyLog.register(this);
        this.ctx = new GuestContext(memory, tracker, serial, index, vcpuCount);
        this.binder = binder;
        this.cpus = List.copyOf(cpus);
        this.ticker = ticker;
    }

    public int index() {
        return index;
    }

    public GuestProgram program() {
        return program;
    }

    /** Steps run so far (published after every batch). */
    public long steps() {
        return publishedSteps;
    }

    /** Guest page writes so far on this vCPU (published after every batch; not part of the saved state). */
    public long pageWrites() {
        return publishedPageWrites;
    }

    /** Native thread id once the thread runs (Linux), -1 before or elsewhere. */
    public int threadId() {
        return tid;
    }

    public List<Integer> cpus() {
        return cpus;
    }

    public int throttlePercent() {
        return throttlePercent;
    }

    public RunState runState() {
        return runState;
    }

    /** Why the vCPU stopped by itself (a guest fault), if it did. */
    public Throwable crash() {
        return crash;
    }

    public boolean isAlive() {
        synchronized (taskLock) {
            return serving;
        }
    }

    void start(boolean paused) {
        synchronized (taskLock) {
            if (thread != null) {
                throw new IllegalStateException(name + " already started");
            }
            pauseRequested = paused;
            thread = new Thread(this::runLoop, name);
            thread.setDaemon(true);
            serving = true;
            thread.start();
        }
    }

    /** Asks the vCPU to stop at its next safe point; completes once it executes no more steps. */
    CompletableFuture<Void> requestPause() {
        pauseRequested = true;
        // Queued after the flag: the thread runs no step between this task and parking.
        return onOwnerThread(() -> {
            if (Thread.currentThread() == ownerThread()) {
                runState = RunState.PAUSED;
            }
            return null;
        });
    }

    void resume() {
        pauseRequested = false;
        unpark();
    }

    boolean isPauseRequested() {
        return pauseRequested;
    }

    /** Stops the thread for good and waits for it. */
    void stop(long timeoutMillis) {
        stopRequested = true;
        Thread t;
        synchronized (taskLock) {
            t = thread;
        }
        if (t == null) {
            return;
        }
        LockSupport.unpark(t);
        try {
            t.join(timeoutMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (t.isAlive()) {
            throw new CoreException(CoreException.Kind.TIMEOUT, name + " did not stop within " + timeoutMillis + " ms");
        }
    }

    /** Percent of time the vCPU is held off (QEMU's cpu-throttle-percentage): it runs (100 - p)% of the time. */
    void setThrottle(int percent) {
        if (percent < 0 || percent > 99) {
            throw new IllegalArgumentException("throttle " + percent + "% outside 0..99");
        }
        throttlePercent = percent;
        unpark();
    }

    /** The vCPU halts once it has run this many steps in total (for replay to an exact point). */
    void setStepLimit(long limit) {
        stepLimit = limit;
        unpark();
    }

    void rebind(List<Integer> newCpus) {
        cpus = List.copyOf(newCpus);
        onOwnerThread(() -> {
            if (Thread.currentThread() == ownerThread()) {
                binder.bindCurrentThread(cpus);
            }
            return null;
        }).join();
    }

    void setMissing(MissingPages missing) {
        onOwnerThread(() -> {
            ctx.setMissing(missing);
            return null;
        }).join();
    }

    private Thread ownerThread() {
        synchronized (taskLock) {
            return thread;
        }
    }

    private void unpark() {
        Thread t;
        synchronized (taskLock) {
            t = thread;
        }
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    @Override
    public <T> CompletableFuture<T> onOwnerThread(Supplier<T> task) {
        CompletableFuture<T> f = new CompletableFuture<>();
        Runnable r = () -> {
            try {
                f.complete(task.get());
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        };
        Thread t;
        synchronized (taskLock) {
            if (!serving) {
                r.run(); // quiescent: nobody else touches the vCPU's state
                return f;
            }
            tasks.add(r);
            pending = true;
            t = thread;
        }
        LockSupport.unpark(t);
        return f;
    }

    @Override
    public String id() {
        return "vcpu" + index;
    }

    /** A consistent register snapshot, taken on the vCPU thread between steps. */
    @Override
    public VcpuState save() {
        return onOwnerThread(() -> new VcpuState(index, steps, regs)).join();
    }

    private void serviceTasks() {
        pending = false;
        Runnable r;
        while ((r = tasks.poll()) != null) {
            r.run();
        }
    }

    private void runLoop() {
        try {
            tid = binder.currentThreadId();
            binder.bindCurrentThread(cpus);
            rebasePacing();
            while (!stopRequested) {
                if (pending) {
                    serviceTasks();
                }
                if (pauseRequested) {
                    parkPaused();
                    continue;
                }
                long batch = Math.min(MAX_BATCH, stepLimit - steps);
                if (batch <= 0) {
                    runState = RunState.HALTED;
                    LockSupport.park(this); // halted at the step limit until it changes
                    continue;
                }
                batch = pace(batch);
                if (batch == 0) {
                    continue;
                }
                runState = RunState.RUNNING;
                long done = program.run(ctx, regs, batch);
                steps += done;
                publishedSteps = steps;
                publishedPageWrites = ctx.pageWrites();
                if (done == 0) {
                    runState = RunState.HALTED;
                    LockSupport.park(this); // the program halted (idle): wait to be poked
                    continue;
                }
                throttle();
            }
            runState = RunState.STOPPED;
        } catch (Throwable t) {
            crash = t;
            runState = RunState.CRASHED;
            LOG.error("{} crashed after {} steps: {}", name, steps, t.toString());
        } finally {
            synchronized (taskLock) {
                serviceTasks();
                dirtyLog.retire(tracker);
                serving = false;
            }
        }
    }

    private void parkPaused() {
        runState = RunState.PAUSED;
        while (pauseRequested && !stopRequested) {
            if (pending) {
                serviceTasks();
            } else {
                LockSupport.park(this);
            }
        }
        rebasePacing();
    }

    private void rebasePacing() {
        long now = ticker.nanos();
        nextStepNanos = now;
        sliceStartNanos = now;
    }

    /** How many of batch steps may run now under the rate limit; sleeps (serving tasks) when ahead. */
    private long pace(long batch) {
        double sps = program.stepsPerSecond();
        if (sps <= 0) {
            return batch;
        }
        double perStep = 1e9 / sps;
        long now = ticker.nanos();
        if (nextStepNanos < now - CATCH_UP_NANOS) {
            nextStepNanos = now - CATCH_UP_NANOS; // lost time (pause, throttle) is not made up in a burst
        }
        if (nextStepNanos > now + AHEAD_NANOS) {
            runState = RunState.RATE_LIMITED;
            sleepServing((long) (nextStepNanos - now));
            return 0;
        }
        long due = (long) ((now + AHEAD_NANOS - nextStepNanos) / perStep) + 1;
        long n = Math.min(batch, due);
        nextStepNanos += n * perStep;
        return n;
    }

    private void throttle() {
        int t = throttlePercent;
        long now = ticker.nanos();
        if (t == 0) {
            sliceStartNanos = now;
            return;
        }
        if (now - sliceStartNanos >= SLICE_NANOS) {
            runState = RunState.THROTTLED;
            sleepServing(SLICE_NANOS * t / (100 - t));
            sliceStartNanos = ticker.nanos();
        }
    }

    private void sleepServing(long nanos) {
        long deadline = ticker.nanos() + nanos;
        while (!stopRequested && !pauseRequested) {
            if (pending) {
                serviceTasks();
            }
            long left = deadline - ticker.nanos();
            if (left <= 0) {
                return;
            }
            LockSupport.parkNanos(this, left);
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
