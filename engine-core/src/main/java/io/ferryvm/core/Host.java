package io.ferryvm.core;

import io.ferryvm.core.host.HostInventory;
import io.ferryvm.core.host.VmStore;
import io.ferryvm.core.machine.GuestMemory;
import io.ferryvm.core.machine.RunHistory;
import io.ferryvm.core.state.SaveFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One hypervisor host: its inventory, its VMs and their definitions in the state directory. The entry
 * point of engine-core; everything a cluster node, a migration or the CLI does to VMs goes through it.
 */
public final class Host implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Host.class);

    private final HostConfig config;
    private final VmStore store;
    private final Map<UUID, Vm> vms = new ConcurrentHashMap<>();
    private final RunHistory runs = new RunHistory(RUN_HISTORY);
    /** Enough runs to cover the VMs of a busy host over minutes of pauses, resumes and migrations. */
    static final int RUN_HISTORY = 4096;

    private Host(HostConfig config) {
        this.config = config;
        this.store = new VmStore(config.stateDir());
    }

    /**
     * Opens a host on its state directory: every VM defined there is known again. VMs that were active
     * when the host went down come back STOPPED (their memory did not survive).
     */
    public static Host open(HostConfig config) {
        Host h = new Host(config);
        for (VmStore.Entry e : h.store.loadAll()) {
            VmStatus s = e.status().isActive() ? VmStatus.STOPPED : e.status();
            if (s != e.status()) {
                h.store.put(e.spec(), s);
            }
            h.vms.put(e.spec().id(), new Vm(h, e.spec(), s));
        }
        return h;
    }

    public HostConfig config() {
        return config;
    }

    public String name() {
        return config.name();
    }

    public HostInventory inventory() {
        return config.inventory();
    }

    /** When each guest executed on this host (wall clock), VMs that left included: the two-copies oracle. */
    public RunHistory runHistory() {
        return runs;
    }

    VmStore store() {
        return store;
    }

    /** Defines a new VM (persisted before this returns). */
    public synchronized VmInfo define(VmSpec spec) {
        if (vms.containsKey(spec.id())) {
            throw new CoreException(CoreException.Kind.ALREADY_EXISTS, "VM " + spec.id() + " is already defined on " + name());
        }
        checkNameFree(spec.name(), spec.id());
        store.put(spec, VmStatus.DEFINED);
        Vm vm = new Vm(this, spec, VmStatus.DEFINED);
        vms.put(spec.id(), vm);
        return vm.info();
    }

    /** Replaces an inactive VM's definition (same id). */
    public synchronized VmInfo redefine(VmSpec spec) {
        Vm vm = vm(spec.id());
        checkNameFree(spec.name(), spec.id());
        vm.redefine(spec);
        return vm.info();
    }

    private void checkNameFree(String name, UUID self) {
        for (Vm v : vms.values()) {
            if (!v.id().equals(self) && v.spec().name().equals(name)) {
                throw new CoreException(CoreException.Kind.ALREADY_EXISTS, "a VM named " + name + " already exists on " + name());
            }
        }
    }

    public VmInfo start(UUID id) {
        Vm vm = vm(id);
        vm.start();
        return vm.info();
    }

    public VmInfo pause(UUID id) {
        Vm vm = vm(id);
        vm.pause();
        return vm.info();
    }

    public VmInfo resume(UUID id) {
        Vm vm = vm(id);
        vm.resume();
        return vm.info();
    }

    public VmInfo stop(UUID id) {
        Vm vm = vm(id);
        vm.stop();
        return vm.info();
    }

    public synchronized void undefine(UUID id) {
        Vm vm = vm(id);
        vm.checkUndefine();
        store.remove(id);
        vms.remove(id);
    }

    /** Saves a VM to a file and stops it. */
    public SaveFile.Stats save(UUID id, Path file) {
        return vm(id).save(file);
    }

    /**
     * Restores a VM from a save file: the file is read and verified completely into fresh memory first,
     * so a bad file changes nothing. The VM is defined from the file if this host does not know it.
     */
    public VmInfo restore(Path file, boolean paused) {
        SaveFile.Loaded loaded = SaveFile.read(file, size -> GuestMemory.allocate(size));
        VmSpec fileSpec;
        try {
            fileSpec = VmSpecJson.read(loaded.definition(), VmSpec.class, "save file " + file + " definition", false);
            if (fileSpec.memoryBytes() != loaded.memory().size() || fileSpec.vcpus() != loaded.state().vcpuCount()) {
                throw new CoreException(CoreException.Kind.CORRUPT_STATE, "save file " + file + ": definition ("
                        + fileSpec.vcpus() + " vCPUs, " + fileSpec.memoryBytes() + " bytes) does not match its state ("
                        + loaded.state().vcpuCount() + " vCPUs, " + loaded.memory().size() + " bytes)");
            }
        } catch (RuntimeException e) {
            loaded.memory().close();
            throw e;
        }
        Vm vm;
        synchronized (this) {
            vm = vms.get(fileSpec.id());
            if (vm == null) {
                try {
                    define(fileSpec);
                } catch (RuntimeException e) {
                    loaded.memory().close();
                    throw e;
                }
                vm = vms.get(fileSpec.id());
            }
        }
        vm.restore(fileSpec, loaded, paused);
        return vm.info();
    }

    /**
     * Target of a migration: defines the incoming VM (not persisted until finish), places it with this
     * host's placer and allocates zeroed memory for the pages to come (mapped, not yet backed: the receiver
     * populates the chunks that carry data, see {@link io.ferryvm.core.machine.GuestMemory#populate}).
     */
    public synchronized Vm prepareIncoming(VmSpec spec) {
        if (vms.containsKey(spec.id())) {
            throw new CoreException(CoreException.Kind.ALREADY_EXISTS, "VM " + spec.id() + " (" + spec.name() + ") already exists on " + name());
        }
        checkNameFree(spec.name(), spec.id());
        Vm vm = new Vm(this, spec, VmStatus.MIGRATING);
        vm.prepareIncoming();
        vms.put(spec.id(), vm);
        return vm;
    }

    /** A VM left this host (migrated away, or an incoming one discarded). */
    void forget(Vm vm) {
        synchronized (this) {
            vms.remove(vm.id(), vm);
        }
        try {
            store.remove(vm.id());
        } catch (CoreException e) {
            LOG.error("VM {} left {} but its definition could not be removed: {}", vm.spec().name(), name(), e.getMessage());
        }
    }

    public Vm vm(UUID id) {
        Vm vm = vms.get(id);
        if (vm == null) {
            throw new CoreException(CoreException.Kind.NOT_FOUND, "no VM " + id + " on host " + name());
        }
        return vm;
    }

    /** A VM by id or name. */
    public Vm lookup(String idOrName) {
        for (Vm v : vms.values()) {
            if (v.spec().name().equals(idOrName) || v.id().toString().equals(idOrName)) {
                return v;
            }
        }
        throw new CoreException(CoreException.Kind.NOT_FOUND, "no VM '" + idOrName + "' on host " + name());
    }

    public boolean has(UUID id) {
        return vms.containsKey(id);
    }

    public VmInfo info(UUID id) {
        return vm(id).info();
    }

    public List<VmInfo> list() {
        List<VmInfo> out = new ArrayList<>();
        for (Vm v : vms.values()) {
            out.add(v.info());
        }
        out.sort(Comparator.comparing(VmInfo::name));
        return out;
    }

    /** Stops every machine (definitions stay, with the status they had). */
    @Override
    public void close() {
        for (Vm v : vms.values()) {
            v.shutdownForHostClose();
        }
    }
}
