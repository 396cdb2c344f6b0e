package io.ferryvm.core;

import io.ferryvm.core.guest.GuestPrograms;
import io.ferryvm.core.machine.Binding;
import io.ferryvm.core.machine.CpuBinder;
import io.ferryvm.core.machine.GuestMemory;
import io.ferryvm.core.machine.GuestProgram;
import io.ferryvm.core.machine.Machine;
import io.ferryvm.core.machine.MachineState;
import io.ferryvm.core.machine.MemoryPolicy;
import io.ferryvm.core.machine.MissingPages;
import io.ferryvm.core.state.SaveFile;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

/**
 * One VM on a host: its definition, lifecycle status and, while active, its machine. Every request is
 * checked against {@link Lifecycle} first and applied completely or not at all: on failure the VM is
 * left as it was (resources taken for the attempt are given back).
 */
public final class Vm {
    private final Host host;
    /** Volatile, read without the lock: the host reads names under its own lock, and this lock may wait on the host's. */
    private volatile VmSpec spec;
    private VmStatus status;
    private VmStatus beforeMigration;
    private Machine machine;
    private Binding binding = Binding.NONE;
    private GuestMemory incoming;
    private boolean placed;
    /** Which way a MIGRATING VM is going: out (source) or in (target). */
    private enum Direction { NONE, OUT, IN }

    private Direction direction = Direction.NONE;

    Vm(Host host, VmSpec spec, VmStatus status) {
        this.host = host;
        this.spec = spec;
        this.status = status;
    }

    public VmSpec spec() {
        return spec; // never under this VM's lock: Host.checkNameFree holds the host's lock and asks every VM
    }

    public UUID id() {
        return spec().id();
    }

    public synchronized VmStatus status() {
        return status;
    }

    /** The placement chosen by the host's placer while the VM is active. */
    public synchronized Binding binding() {
        return binding;
    }

    /** The running machine (memory, vCPUs, devices) while the VM is active and started, else null. */
    public synchronized Machine machine() {
        return machine;
    }

    public synchronized VmInfo info() {
        Machine m = machine;
        return new VmInfo(spec.id(), spec.name(), status, spec.vcpus(), spec.memoryBytes(), spec.workload().program(),
                m == null ? 0 : m.totalSteps(), m == null ? 0 : m.throttlePercent(), binding,
                placed && !host.config().simulated(), m == null ? "" : m.serial().tail(),
                m == null || status != VmStatus.RUNNING ? 0 : m.dirtyRateMiBps());
    }

    // ---- lifecycle ----

    synchronized void start() {
        Lifecycle.check(spec.name(), status, VmAction.START);
        Binding b = place();
        try {
            GuestMemory mem = GuestMemory.allocate(spec.memoryBytes(), realMemoryPolicy(b), false);
            Machine m;
            try {
                m = Machine.create(spec.name(), mem, programs(), realBinding(b), binder(), host.config().ticker());
                m.recordRunsIn(host.runHistory(), spec.id());
            } catch (RuntimeException e) {
                mem.close();
                throw e;
            }
            m.start(false);
            machine = m;
            setStatus(VmStatus.RUNNING);
        } catch (RuntimeException e) {
            if (machine != null) {
                machine.close();
                machine = null;
            }
            unplace();
            throw e;
        }
    }

    synchronized void pause() {
        Lifecycle.check(spec.name(), status, VmAction.PAUSE);
        machine.pause();
        commitOrUndo(VmStatus.PAUSED, machine::resume);
    }

    synchronized void resume() {
        Lifecycle.check(spec.name(), status, VmAction.RESUME);
        machine.resume();
        commitOrUndo(VmStatus.RUNNING, machine::pause);
    }

    synchronized void stop() {
        Lifecycle.check(spec.name(), status, VmAction.STOP);
        setStatus(VmStatus.STOPPED); // first: if the state directory refuses, the VM keeps running
        shutdownMachine();
    }

    /** Saves the VM to a file and stops it (virsh save). On failure it keeps running as before. */
    synchronized SaveFile.Stats save(Path file) {
        Lifecycle.check(spec.name(), status, VmAction.SAVE);
        boolean wasRunning = status == VmStatus.RUNNING;
        machine.pause();
        SaveFile.Stats stats;
        try {
            stats = SaveFile.write(file, VmSpecJson.toJson(spec), machine.saveState(), machine.memory());
        } catch (RuntimeException e) {
            if (wasRunning) {
                machine.resume();
            }
            throw e;
        }
        commitOrUndo(VmStatus.STOPPED, () -> {
            if (wasRunning) {
                machine.resume();
            }
        });
        shutdownMachine();
        return stats;
    }

    /** Installs a verified save file's contents (the memory is taken over) and starts the machine. */
    synchronized void restore(VmSpec fileSpec, SaveFile.Loaded loaded, boolean paused) {
        try {
            Lifecycle.check(spec.name(), status, VmAction.RESTORE);
            if (!fileSpec.id().equals(spec.id())) {
                throw new CoreException(CoreException.Kind.INVALID_SPEC, "save file holds VM " + fileSpec.id() + ", not " + spec.id());
            }
        } catch (RuntimeException e) {
            loaded.memory().close();
            throw e;
        }
        VmSpec old = spec;
        spec = fileSpec;
        Binding b;
        try {
            b = place();
        } catch (RuntimeException e) {
            spec = old;
            loaded.memory().close();
            throw e;
        }
        try {
            Machine m = Machine.restore(spec.name(), loaded.memory(), programs(), loaded.state(), realBinding(b), binder(),
                    host.config().ticker());
            m.recordRunsIn(host.runHistory(), spec.id());
            m.start(paused);
            machine = m;
            setStatus(paused ? VmStatus.PAUSED : VmStatus.RUNNING);
        } catch (RuntimeException e) {
            if (machine != null) {
                machine.close(); // closes the loaded memory with it
                machine = null;
            } else {
                loaded.memory().close();
            }
            unplace();
            spec = old;
            throw e;
        }
    }

    /** Replaces the definition of an inactive VM. */
    synchronized void redefine(VmSpec newSpec) {
        if (status.isActive()) {
            throw new CoreException(CoreException.Kind.ILLEGAL_TRANSITION,
                    "VM " + spec.name() + " is " + status.name().toLowerCase() + ": stop it before changing its definition");
        }
        host.store().put(newSpec, status);
        spec = newSpec;
    }

    synchronized void checkUndefine() {
        Lifecycle.check(spec.name(), status, VmAction.UNDEFINE);
    }

    // ---- migration, source side ----

    /**
     * An outgoing migration begins: the VM is MIGRATING until it is aborted (back to its status) or done
     * (it leaves this host). Returns the machine the migration reads.
     */
    public synchronized Machine beginMigrationOut() {
        Lifecycle.check(spec.name(), status, VmAction.MIGRATE_OUT);
        VmStatus before = status;
        setStatus(VmStatus.MIGRATING);
        beforeMigration = before;
        direction = Direction.OUT;
        return machine;
    }

    /** The migration failed or was cancelled before finish: the guest goes on here as it was. */
    public synchronized void abortMigrationOut() {
        Lifecycle.check(spec.name(), status, VmAction.MIGRATE_OUT_ABORT);
        requireDirection(Direction.OUT);
        machine.setThrottle(0);
        if (beforeMigration == VmStatus.RUNNING) {
            machine.resume();
        } else {
            machine.pause();
        }
        status = beforeMigration; // the guest runs here again whatever the disk says
        direction = Direction.NONE;
        try {
            host.store().put(spec, status);
        } catch (CoreException e) {
            org.slf4j.LoggerFactory.getLogger(Vm.class).error("VM {} resumed after a failed migration, but its status "
                    + "could not be recorded: {}", spec.name(), e.getMessage());
        }
    }

    /** Confirm after a successful finish: the guest runs on the target; here it is released for good. */
    public void completeMigrationOut() {
        synchronized (this) {
            Lifecycle.check(spec.name(), status, VmAction.MIGRATE_OUT_DONE);
            requireDirection(Direction.OUT);
            shutdownMachine();
        }
        // Outside this VM's lock: the host's methods take the host's lock, then a VM's (lock order host -> VM)
        host.forget(this);
    }

    /**
     * Post-copy lost the guest: it may have run on the target, so this copy never resumes. It is stopped
     * here with its definition intact (it stayed MIGRATING and paused for good, refusing start and stop).
     */
    public synchronized void loseMigrationOut() {
        Lifecycle.check(spec.name(), status, VmAction.MIGRATE_OUT_LOST);
        requireDirection(Direction.OUT);
        direction = Direction.NONE;
        status = VmStatus.STOPPED;
        shutdownMachine();
        try {
            host.store().put(spec, status);
        } catch (CoreException e) {
            org.slf4j.LoggerFactory.getLogger(Vm.class).error("VM {} stopped after post-copy lost it, but its status could not "
                    + "be recorded: {}", spec.name(), e.getMessage());
        }
    }

    /** True while the VM is the source of an outgoing migration. */
    public synchronized boolean isMigratingOut() {
        return status == VmStatus.MIGRATING && direction == Direction.OUT;
    }

    /** True while the VM is the target of an incoming migration (post-copy included). */
    public synchronized boolean isMigratingIn() {
        return status == VmStatus.MIGRATING && direction == Direction.IN;
    }

    private void requireDirection(Direction d) {
        if (direction != d) {
            throw new CoreException(CoreException.Kind.ILLEGAL_TRANSITION, "VM " + spec.name() + " is migrating "
                    + (direction == Direction.IN ? "in to" : "out of") + " this host, not " + (d == Direction.IN ? "in" : "out"));
        }
    }

    // ---- migration, target side ----

    /**
     * Target: memory for the incoming guest, placed by this host's placer for this host's topology. Not
     * pre-faulted: fresh memory reads as zeros, so pages that arrive as zeros need no write and no host
     * memory, and the receiver backs each chunk that carries data in one call ({@link GuestMemory#populate}).
     */
    synchronized void prepareIncoming() {
        Binding b = place();
        try {
            incoming = GuestMemory.allocate(spec.memoryBytes(), realMemoryPolicy(b), false);
            beforeMigration = null;
            status = VmStatus.MIGRATING;
            direction = Direction.IN;
        } catch (RuntimeException e) {
            unplace();
            throw e;
        }
    }

    /** Target: the memory pages are written into (before finish, nothing runs on it). */
    public synchronized GuestMemory incomingMemory() {
        if (incoming == null) {
            throw new CoreException(CoreException.Kind.ILLEGAL_TRANSITION, "VM " + spec.name() + " is not an incoming migration");
        }
        return incoming;
    }

    /** Target, finish: restores vCPU and device state over the received memory and resumes (or stays paused). */
    public synchronized void completeMigrationIn(MachineState state, boolean paused) {
        completeMigrationIn(state, paused, () -> { });
    }

    /**
     * As {@link #completeMigrationIn(MachineState, boolean)}, with {@code beforeRun} called once this VM's
     * definition is durable and before the guest runs here. A migration target waits there for its own
     * record of the outcome, written meanwhile, so the two durable writes overlap instead of queueing inside
     * the guest's downtime. If beforeRun throws, nothing runs here and the definition is removed again.
     */
    public synchronized void completeMigrationIn(MachineState state, boolean paused, Runnable beforeRun) {
        Lifecycle.check(spec.name(), status, VmAction.MIGRATE_IN_DONE);
        requireDirection(Direction.IN);
        GuestMemory mem = incomingMemory();
        VmStatus target = paused ? VmStatus.PAUSED : VmStatus.RUNNING;
        // Durable before the guest runs here: if the state directory refuses, finish fails and the source resumes.
        host.store().put(spec, target);
        try {
            beforeRun.run();
            if (machine == null) {
                Machine m = Machine.restore(spec.name(), mem, programs(), state, realBinding(binding), binder(),
                        host.config().ticker());
                m.recordRunsIn(host.runHistory(), spec.id());
                m.start(paused);
                machine = m;
            } else if (paused) {
                machine.pause();
            }
        } catch (RuntimeException e) {
            try {
                host.store().remove(spec.id());
            } catch (RuntimeException ignored) {
                // the definition stays; the orchestrator reconciles it with where the VM really runs
            }
            throw e;
        }
        incoming = null;
        status = target;
        direction = Direction.NONE;
    }

    /**
     * Target, post-copy: the guest starts here before all memory arrived; a vCPU touching a missing page
     * waits for it. The VM stays MIGRATING until {@link #completeMigrationIn} once every page is in.
     */
    public synchronized void startPostCopy(MachineState state, MissingPages missing) {
        if (status != VmStatus.MIGRATING || direction != Direction.IN || machine != null) {
            throw new CoreException(CoreException.Kind.ILLEGAL_TRANSITION, "VM " + spec.name() + " is not waiting for post-copy");
        }
        GuestMemory mem = incomingMemory();
        host.store().put(spec, VmStatus.MIGRATING); // the point of no return: the guest now lives here
        Machine m = Machine.restore(spec.name(), mem, programs(), state, realBinding(binding), binder(), host.config().ticker());
        m.recordRunsIn(host.runHistory(), spec.id());
        m.enterPostCopy(missing);
        m.start(false);
        machine = m;
    }

    /** Target: the incoming migration failed; everything received is freed and the VM leaves this host. */
    public void abortMigrationIn() {
        synchronized (this) {
            Lifecycle.check(spec.name(), status, VmAction.MIGRATE_IN_ABORT);
            requireDirection(Direction.IN);
            if (machine != null) {
                machine.close();
                machine = null;
            } else if (incoming != null) {
                incoming.close();
            }
            incoming = null;
            unplace();
        }
        host.forget(this); // outside this VM's lock, as in completeMigrationOut
    }

    // ---- helpers ----

    /** Re-pins the running VM's vCPUs to a new binding computed by the caller. */
    public synchronized void rebind(Binding b) {
        if (machine == null) {
            throw new CoreException(CoreException.Kind.ILLEGAL_TRANSITION, "VM " + spec.name() + " is not running");
        }
        machine.rebind(realBinding(b));
        binding = b;
    }

    synchronized void shutdownForHostClose() {
        if (machine != null) {
            machine.close();
            machine = null;
        }
        if (incoming != null) {
            incoming.close();
            incoming = null;
        }
    }

    private void shutdownMachine() {
        if (machine != null) {
            machine.close();
            machine = null;
        }
        unplace();
    }

    private List<GuestProgram> programs() {
        return GuestPrograms.create(spec.workload(), spec.memoryBytes(), spec.vcpus());
    }

    private Binding place() {
        Binding b = host.config().placer().place(spec, host.config().inventory());
        if (!b.vcpuCpus().isEmpty() && b.vcpuCpus().size() != spec.vcpus()) {
            host.config().placer().release(spec.id());
            throw new CoreException(CoreException.Kind.RESOURCES, "placer bound " + b.vcpuCpus().size() + " vCPUs of " + spec.vcpus());
        }
        binding = b;
        placed = true;
        return b;
    }

    private void unplace() {
        if (placed) {
            host.config().placer().release(spec.id());
            placed = false;
        }
        binding = Binding.NONE;
    }

    /** On a simulated host the placement is recorded but not applied: its CPUs and nodes are not real. */
    private Binding realBinding(Binding b) {
        return host.config().simulated() ? Binding.NONE : b;
    }

    private MemoryPolicy realMemoryPolicy(Binding b) {
        return host.config().simulated() ? MemoryPolicy.DEFAULT : b.memory();
    }

    private CpuBinder binder() {
        return host.config().simulated() ? CpuBinder.NOOP : CpuBinder.forPlatform();
    }

    private void setStatus(VmStatus s) {
        host.store().put(spec, s);
        status = s;
    }

    /** Persists the new status; if the state directory refuses, undoes what was applied and rethrows. */
    private void commitOrUndo(VmStatus s, Runnable undo) {
        try {
            setStatus(s);
        } catch (RuntimeException e) {
            undo.run();
            throw e;
        }
    }

    @Override
    public String toString() {
        return "Vm[" + spec.name() + ", " + status + "]";
    }
}
