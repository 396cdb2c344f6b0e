package io.ferryvm.cluster.agent;

import io.ferryvm.cluster.agent.AgentProtocol.Op;
import io.ferryvm.core.CoreException;
import io.ferryvm.core.Host;
import io.ferryvm.core.HypervisorDriver;
import io.ferryvm.core.VmInfo;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmStatus;
import io.ferryvm.core.machine.Binding;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A node's VMs when its hypervisor is a {@link HypervisorDriver} (e.g. qemu) rather than the built-in one:
 * definitions stay in the {@link Host}'s durable store (so define, undefine and the views work as on any
 * node), the driver runs the guests, and every view carries the driver's status and serial tail instead of
 * the host's (for the host, these VMs stay defined and never start a built-in machine).
 *
 * <p>Each guest is placed by the node's placer like a built-in VM: on a host with a real (detected)
 * topology the driver pins its vCPUs and binds its memory to that placement; on a simulated topology the
 * placement is recorded but not applied (its CPUs and nodes need not exist on this machine). Live
 * migration between two hosts of the same driver is {@link DriverMigrations}'. Not carried on this path:
 * the replay check (a real guest has no deterministic replay); it is refused with a message that says so.
 */
final class DriverGuests {
    private final Host host;
    private final HypervisorDriver driver;
    /** The last status the driver reported for each guest it ran; a guest the driver forgot after stop reads STOPPED. */
    private final Map<UUID, VmStatus> known = new ConcurrentHashMap<>();
    /** The placement of each guest this driver runs (recorded even where it is not applied). */
    private final Map<UUID, Binding> bindings = new ConcurrentHashMap<>();

    DriverGuests(Host host, HypervisorDriver driver) {
        this.host = host;
        this.driver = driver;
    }

    String driverName() {
        return driver.name();
    }

    VmInfo define(VmSpec spec, boolean start) {
        host.define(spec);
        if (start) {
            try {
                apply(spec.id(), Op.START);
            } catch (RuntimeException e) {
                host.undefine(spec.id()); // all or nothing, as on the built-in path
                throw e;
            }
        }
        return info(spec.id());
    }

    VmInfo apply(UUID id, Op op) {
        VmSpec spec = host.vm(id).spec();
        VmStatus now = status(id);
        switch (op) {
            case START -> {
                if (now.isActive()) {
                    throw illegal(spec, now, "start");
                }
                Binding b = place(spec);
                try {
                    known.put(id, driver.start(spec, applicable(b)));
                } catch (RuntimeException e) {
                    release(id);
                    throw e;
                }
            }
            case PAUSE -> {
                if (now != VmStatus.RUNNING) {
                    throw illegal(spec, now, "pause");
                }
                known.put(id, driver.pause(id));
            }
            case RESUME -> {
                if (now != VmStatus.PAUSED) {
                    throw illegal(spec, now, "resume");
                }
                known.put(id, driver.resume(id));
            }
            case STOP -> {
                if (!now.isActive()) {
                    throw illegal(spec, now, "stop");
                }
                driver.stop(id);
                known.put(id, VmStatus.STOPPED);
                release(id);
            }
            case UNDEFINE -> {
                if (now.isActive()) {
                    throw illegal(spec, now, "undefine");
                }
                VmInfo last = info(id);
                host.undefine(id);
                known.remove(id);
                return last;
            }
        }
        return info(id);
    }

    /** The host's view of the VM with the driver's status and serial output. */
    VmInfo info(UUID id) {
        VmInfo h = host.info(id);
        VmStatus s = status(id);
        String serial = s.isActive() ? driver.serialTail(id) : "";
        Binding b = s.isActive() ? bindings.getOrDefault(id, Binding.NONE) : Binding.NONE;
        return new VmInfo(h.id(), h.name(), s, h.vcpus(), h.memoryBytes(), driver.name(), 0, 0, b,
                b != Binding.NONE && !host.inventory().simulated(), serial);
    }

    /** Places a guest with the node's placer (reserved until {@link #release}); throws RESOURCES when it does not fit. */
    Binding place(VmSpec spec) {
        Binding b = host.config().placer().place(spec, host.inventory());
        bindings.put(spec.id(), b);
        return b;
    }

    /** What the driver applies: the placement on a real topology, nothing on a simulated one. */
    Binding applicable(Binding b) {
        return host.inventory().simulated() ? Binding.NONE : b;
    }

    /** Frees a guest's placement (stopped, gone, or migrated away). */
    void release(UUID id) {
        if (bindings.remove(id) != null) {
            host.config().placer().release(id);
        }
    }

    /** A guest that arrived by migration: placed already, running under the driver. */
    void arrived(VmSpec spec, Binding b, VmStatus status) {
        bindings.put(spec.id(), b);
        known.put(spec.id(), status);
    }

    /** A guest that left by migration: its definition goes with it, nothing of it stays here. */
    void left(UUID id) {
        release(id);
        known.remove(id);
        host.undefine(id);
    }

    HypervisorDriver driver() {
        return driver;
    }

    Host host() {
        return host;
    }

    /** The driver's status for a guest it runs; STOPPED for one it ran and let go; the host's (DEFINED) otherwise. */
    private VmStatus status(UUID id) {
        VmStatus last = known.get(id);
        if (last == null) {
            return host.info(id).status();
        }
        try {
            VmStatus s = driver.status(id);
            known.put(id, s);
            if (!s.isActive()) {
                release(id); // it shut down by itself
            }
            return s;
        } catch (CoreException gone) {
            if (gone.kind() != CoreException.Kind.NOT_FOUND) {
                throw gone;
            }
            known.put(id, VmStatus.STOPPED);
            release(id);
            return VmStatus.STOPPED;
        }
    }

    List<VmInfo> list() {
        return host.list().stream().map(i -> {
            try {
                return info(i.id());
            } catch (CoreException gone) {
                return i; // undefined between the listing and the lookup
            }
        }).toList();
    }

    private static CoreException illegal(VmSpec spec, VmStatus now, String what) {
        return new CoreException(CoreException.Kind.ILLEGAL_TRANSITION, "VM " + spec.name() + " is " + now.name().toLowerCase(java.util.Locale.ROOT)
                + ": cannot " + what + " it");
    }

    /** Closes the driver: it destroys every guest it still runs. */
    void close() {
        driver.close();
    }
}
