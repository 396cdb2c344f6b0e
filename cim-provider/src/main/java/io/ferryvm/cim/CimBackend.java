package io.ferryvm.cim;

import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmStatus;
import io.ferryvm.core.host.HostInventory;
import io.ferryvm.core.machine.Binding;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * What the CIM provider needs from the system it manages, declared here so the provider depends on no
 * cluster code (the cluster module implements it over its Java API). Every call may block for as long
 * as the cluster takes to answer; calls come from the provider's own worker threads, never from an
 * actor. Refusals are {@link CimException}s: NOT_FOUND for an unknown VM or host, FAILED (with the
 * reason) for anything the current state does not allow, INVALID_PARAMETER for a bad value.
 */
public interface CimBackend {

    /** Every host of the cluster, up or not. */
    List<Host> hosts();

    /** Every VM of the cluster. */
    List<Vm> vms();

    /** One VM by name. */
    Optional<Vm> vm(String name);

    /** Defines a VM on the given host (not started). */
    Vm define(VmSpec spec, String host);

    /** Starts, stops, pauses or resumes a VM. */
    Vm changeState(String vm, StateChange change);

    /** Stops the VM if it runs, then removes its definition. */
    void destroy(String vm);

    /** Replaces the definition of an inactive VM (same id, same host). */
    Vm redefine(String vm, VmSpec spec);

    /** Moves an inactive VM's definition to another host (an offline migration). */
    Vm relocate(String vm, String host);

    /** Why the VM cannot be live-migrated to host now, or empty when it can. */
    Optional<String> migrationRefusal(String vm, String host);

    /** Starts a live migration; returns its id (progress arrives as events and in {@link #migrations()}). */
    UUID migrate(String vm, String host, MigrationTuning tuning);

    /** Cancels a running migration (the guest goes on at its source). */
    void cancelMigration(UUID migration);

    /** Running and recently ended migrations. */
    List<Migration> migrations();

    /** Delivers every change to listener until the returned handle is closed. */
    AutoCloseable subscribe(Consumer<Event> listener);

    // ---- values ----

    /** A host: name, cluster address, reachable or not, drained or not, its NUMA inventory. */
    record Host(String name, String address, boolean up, boolean draining, HostInventory inventory) {
        public Host {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(inventory, "inventory");
        }
    }

    /**
     * A VM: its definition, lifecycle status, the host it is on, whether it is migrating or lost (its
     * host is down), and where its vCPUs and memory are bound on that host.
     */
    record Vm(VmSpec spec, VmStatus status, String host, boolean migrating, boolean lost, Binding binding) {
        public Vm {
            Objects.requireNonNull(spec, "spec");
            Objects.requireNonNull(status, "status");
            binding = binding == null ? Binding.NONE : binding;
        }

        public String name() {
            return spec.name();
        }
    }

    /** The lifecycle requests RequestStateChange maps onto. */
    enum StateChange { START, STOP, PAUSE, RESUME }

    /** How to live-migrate: the knobs of the cluster's migration options (0 bandwidth = unlimited). */
    record MigrationTuning(long downtimeLimitMs, double bandwidthMiBps, int channels, String compression, boolean autoConverge,
            boolean postCopy, long timeoutSeconds) {
        public static final MigrationTuning DEFAULT = new MigrationTuning(300, 0, 2, "lz4", true, false, 0);
    }

    /**
     * A migration as the cluster reports it: detail is the protocol phase while it runs and the failure
     * once it failed; percentComplete is the backend's estimate (0..100).
     */
    record Migration(UUID id, String vm, String source, String target, Phase phase, String detail, int percentComplete,
            long transferredBytes, long remainingBytes, long downtimeMs) {
        public enum Phase { QUEUED, RUNNING, COMPLETED, FAILED }

        public Migration {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(phase, "phase");
            detail = detail == null ? "" : detail;
            percentComplete = Math.max(0, Math.min(100, percentComplete));
        }
    }

    /** A change in the cluster, for indications. */
    sealed interface Event permits VmUpdated, VmRemoved, MigrationUpdated, HostUpdated {}

    record VmUpdated(Vm vm) implements Event {}

    record VmRemoved(UUID id, String name) implements Event {}

    record MigrationUpdated(Migration migration) implements Event {}

    record HostUpdated(String host, boolean up) implements Event {}
}
