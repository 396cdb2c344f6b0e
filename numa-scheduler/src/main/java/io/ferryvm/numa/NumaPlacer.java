package io.ferryvm.numa;

import io.ferryvm.core.CoreException;
import io.ferryvm.core.Placer;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.host.HostInventory;
import io.ferryvm.core.machine.Binding;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * engine-core's {@link Placer} for one host: fits each starting or incoming VM with {@link NumaFitter}
 * against this host's own topology (a migration target never copies the source's pinning) and returns
 * the binding the host applies (sched_setaffinity per vCPU thread, mbind of guest memory).
 *
 * <p>Shared vCPUs float over their node's shared pool, which shrinks when a dedicated VM arrives and
 * grows when one leaves; {@link #pendingRebinds()} lists the running VMs whose pool changed so the
 * caller re-pins them with {@code Vm.rebind}. It is not done from inside {@link #place}: the host calls
 * place while holding the starting VM's lock, and re-pinning another VM there could deadlock.
 */
public final class NumaPlacer implements Placer {
    private final HostTopology.Reserve reserve;
    private final double cpuOvercommit;
    private final NumaFitter fitter = new NumaFitter();
    private HostState state;
    private final Map<UUID, Binding> applied = new LinkedHashMap<>();

    public NumaPlacer(HostTopology.Reserve reserve, double cpuOvercommit) {
        this.reserve = Objects.requireNonNull(reserve, "reserve");
        this.cpuOvercommit = cpuOvercommit;
        if (!(cpuOvercommit >= 1.0) || cpuOvercommit > 64) {
            throw new NumaException(NumaException.Kind.INVALID, "CPU overcommit ratio " + cpuOvercommit + " outside 1..64");
        }
    }

    @Override
    public synchronized Binding place(VmSpec spec, HostInventory inventory) {
        HostTopology topo = HostTopology.from(inventory, reserve);
        if (state == null || !state.topo.sameShape(topo)) {
            if (state != null && !state.placements().isEmpty()) {
                throw new CoreException(CoreException.Kind.RESOURCES, "host " + inventory.hostname()
                        + ": topology changed under " + state.placements().size() + " placed VMs");
            }
            state = HostState.empty(topo, cpuOvercommit);
        }
        if (state.holds(spec.id())) {
            throw new CoreException(CoreException.Kind.ALREADY_EXISTS, "VM " + spec.name() + " is already placed on " + topo.name());
        }
        Fit fit = fitter.fit(state, VmRequest.of(spec));
        if (fit instanceof Rejection rej) {
            throw new CoreException(CoreException.Kind.RESOURCES, "VM " + spec.name() + " does not fit on " + topo.name() + ": " + rej);
        }
        Placement p = (Placement) fit;
        state = state.with(p);
        Binding b = state.bindingOf(p.vm());
        applied.put(p.vm(), b);
        return b;
    }

    @Override
    public synchronized void release(UUID vm) {
        if (state != null && state.holds(vm)) {
            state = state.without(vm);
        }
        applied.remove(vm);
    }

    /**
     * Running VMs whose binding differs from the one last handed out (their node's shared pool changed),
     * with the new binding; they count as applied once returned.
     */
    public synchronized Map<UUID, Binding> pendingRebinds() {
        Map<UUID, Binding> out = new HashMap<>();
        for (Map.Entry<UUID, Binding> e : applied.entrySet()) {
            Binding now = state.bindingOf(e.getKey());
            if (!now.equals(e.getValue())) {
                out.put(e.getKey(), now);
            }
        }
        applied.putAll(out);
        return out;
    }

    /** The host's allocations now (empty before the first placement). */
    public synchronized HostState state() {
        return state;
    }

    /** The placement of a VM on this host, if placed. */
    public synchronized Optional<Placement> placement(UUID vm) {
        return state == null ? Optional.empty() : state.placement(vm);
    }
}
