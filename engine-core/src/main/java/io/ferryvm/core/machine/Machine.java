package io.ferryvm.core.machine;

import io.ferryvm.core.CoreException;
import io.ferryvm.core.Ticker;
import io.ferryvm.core.device.serial.SerialDevice;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The running parts of one VM: guest memory, vCPUs and devices. Lifecycle rules live in the VM above it;
 * this class only does what it is told, with pause/resume at safe points and a consistent state save.
 */
public final class Machine implements AutoCloseable {
    static final long SAFE_POINT_TIMEOUT_MS = 30_000;

    private final String name;
    private final GuestMemory memory;
    private final SerialDevice serial;
    private final List<Vcpu> vcpus;
    private volatile MissingPages missing;
    // Dirty-rate meter: the rate of the last window of at least a second (guarded by meterLock).
    private final Object meterLock = new Object();
    private long meterNanos = System.nanoTime();
    private long meterWrites;
    private double dirtyRateMiBps;
    private boolean started;
    private boolean closed;
    /** Where this machine's stretches of execution are recorded (its host's history), or null. */
    private volatile RunHistory history;
    private volatile java.util.UUID historyVm;

    private Machine(String name, GuestMemory memory, SerialDevice serial, List<GuestProgram> programs,
            VcpuState[] states, Binding binding, CpuBinder binder, Ticker ticker) {
        binding.checkFor(programs.size());
        if (states.length != programs.size()) {
            throw new IllegalArgumentException("state has " + states.length + " vCPUs, the VM has " + programs.size());
        }
        this.name = name;
        this.memory = memory;
        this.serial = serial;
        List<Vcpu> vs = new ArrayList<>();
        for (int i = 0; i < programs.size(); i++) {
            vs.add(new Vcpu(name, states[i], programs.get(i), memory, serial, programs.size(), binder, binding.cpusOf(i), ticker));
        }
        this.vcpus = List.copyOf(vs);
    }

    /** A machine at power-on: every program at its initial registers. Takes ownership of memory. */
    public static Machine create(String name, GuestMemory memory, List<GuestProgram> programs, Binding binding,
            CpuBinder binder, Ticker ticker) {
        VcpuState[] states = new VcpuState[programs.size()];
        for (int i = 0; i < states.length; i++) {
            long[] regs = new long[GuestProgram.REGISTERS];
            programs.get(i).reset(regs);
            states[i] = new VcpuState(i, 0, regs);
        }
        return new Machine(name, memory, new SerialDevice(), programs, states, binding, binder, ticker);
    }

    /** A machine resuming saved state over memory that already holds the guest's pages. */
    public static Machine restore(String name, GuestMemory memory, List<GuestProgram> programs, MachineState state,
            Binding binding, CpuBinder binder, Ticker ticker) {
        return new Machine(name, memory, SerialDevice.restore(state.serial()), programs, state.vcpus(), binding, binder, ticker);
    }

    public GuestMemory memory() {
        return memory;
    }

    public SerialDevice serial() {
        return serial;
    }

    /** Records when this machine executes into its host's history, under the VM's id. */
    public void recordRunsIn(RunHistory h, java.util.UUID vm) {
        this.historyVm = vm;
        this.history = h;
    }

    // opened before the vCPUs go, closed once they all stopped: a recorded run covers the real one
    private void runStarted() {
        RunHistory h = history;
        if (h != null) {
            h.started(historyVm);
        }
    }

    private void runStopped() {
        RunHistory h = history;
        if (h != null) {
            h.stopped(historyVm);
        }
    }

    public List<Vcpu> vcpus() {
        return vcpus;
    }

    /** Starts the vCPU threads, running or parked at their first safe point. */
    public synchronized void start(boolean paused) {
        if (started) {
            throw new IllegalStateException(name + ": machine already started");
        }
        started = true;
        if (!paused) {
            runStarted();
        }
        for (Vcpu v : vcpus) {
            v.start(paused);
        }
    }

    public synchronized boolean isStarted() {
        return started;
    }

    /** Returns once no vCPU executes another step. */
    public void pause() {
        List<CompletableFuture<Void>> fs = new ArrayList<>();
        for (Vcpu v : vcpus) {
            fs.add(v.requestPause());
        }
        for (CompletableFuture<Void> f : fs) {
            awaitSafePoint(f, "pause");
        }
        runStopped();
    }

    public void resume() {
        runStarted();
        for (Vcpu v : vcpus) {
            v.resume();
        }
    }

    public boolean isPaused() {
        for (Vcpu v : vcpus) {
            if (!v.isPauseRequested()) {
                return false;
            }
        }
        return true;
    }

    /** Saves vCPU and device state. Pause first: a running machine has no consistent state. */
    public MachineState saveState() {
        if (started && !isPaused()) {
            throw new IllegalStateException(name + ": pause the machine before saving its state");
        }
        VcpuState[] states = new VcpuState[vcpus.size()];
        for (Vcpu v : vcpus) {
            states[v.index()] = v.save();
        }
        return new MachineState(states, serial.save());
    }

    /** Auto-converge: every vCPU held off this percent of the time (0..99). */
    public void setThrottle(int percent) {
        for (Vcpu v : vcpus) {
            v.setThrottle(percent);
        }
    }

    public int throttlePercent() {
        return vcpus.isEmpty() ? 0 : vcpus.get(0).throttlePercent();
    }

    /** Each vCPU halts once it has run this many steps (replay to an exact point). */
    public void setStepLimit(long stepsPerVcpu) {
        for (Vcpu v : vcpus) {
            v.setStepLimit(stepsPerVcpu);
        }
    }

    /** Per-vCPU step limits (replaying a guest to exactly the point another copy of it reached). */
    public void setStepLimits(long[] stepsPerVcpu) {
        if (stepsPerVcpu.length != vcpus.size()) {
            throw new IllegalArgumentException(stepsPerVcpu.length + " step limits for " + vcpus.size() + " vCPUs");
        }
        for (Vcpu v : vcpus) {
            v.setStepLimit(stepsPerVcpu[v.index()]);
        }
    }

    public long[] steps() {
        long[] s = new long[vcpus.size()];
        for (Vcpu v : vcpus) {
            s[v.index()] = v.steps();
        }
        return s;
    }

    /** Guest page writes so far, all vCPUs. */
    public long pageWrites() {
        long t = 0;
        for (Vcpu v : vcpus) {
            t += v.pageWrites();
        }
        return t;
    }

    /**
     * The guest's dirty rate in MiB/s: page writes times the page size over the last window of at least a
     * second (an upper bound of the distinct pages dirtied, which only the dirty log knows while it runs).
     */
    public double dirtyRateMiBps() {
        synchronized (meterLock) {
            long now = System.nanoTime();
            long elapsed = now - meterNanos;
            if (elapsed >= 1_000_000_000L) {
                long writes = pageWrites();
                dirtyRateMiBps = (writes - meterWrites) * (double) GuestMemory.PAGE_SIZE / (1 << 20) / (elapsed / 1e9);
                meterWrites = writes;
                meterNanos = now;
            }
            return dirtyRateMiBps;
        }
    }

    public long totalSteps() {
        long t = 0;
        for (Vcpu v : vcpus) {
            t += v.steps();
        }
        return t;
    }

    /** Re-pins the vCPUs (on their own threads) to a new placement. */
    public void rebind(Binding binding) {
        binding.checkFor(vcpus.size());
        for (Vcpu v : vcpus) {
            v.rebind(binding.cpusOf(v.index()));
        }
    }

    /** Post-copy: from now on a vCPU touching a page not yet present waits for it. */
    public void enterPostCopy(MissingPages pages) {
        missing = pages;
        for (Vcpu v : vcpus) {
            v.setMissing(pages);
        }
    }

    /** Post-copy finished: every page is present, the vCPUs stop checking. */
    public void leavePostCopy() {
        for (Vcpu v : vcpus) {
            v.setMissing(null);
        }
        missing = null;
    }

    /** The first vCPU crash (a guest that cannot continue), or null. */
    public Throwable crash() {
        for (Vcpu v : vcpus) {
            if (v.crash() != null) {
                return v.crash();
            }
        }
        return null;
    }

    /** Stops every vCPU thread and frees guest memory (once no lease holds it). */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        MissingPages m = missing;
        if (m != null) {
            m.fail("the VM was stopped");
        }
        for (Vcpu v : vcpus) {
            v.stop(SAFE_POINT_TIMEOUT_MS);
        }
        runStopped();
        memory.close();
    }

    private void awaitSafePoint(CompletableFuture<Void> f, String what) {
        try {
            f.get(SAFE_POINT_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CoreException(CoreException.Kind.TIMEOUT, name + ": interrupted during " + what);
        } catch (ExecutionException e) {
            throw new CoreException(CoreException.Kind.TIMEOUT, name + ": " + what + " failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new CoreException(CoreException.Kind.TIMEOUT,
                    name + ": a vCPU did not reach a safe point for " + what + " within " + SAFE_POINT_TIMEOUT_MS + " ms");
        }
    }
}
