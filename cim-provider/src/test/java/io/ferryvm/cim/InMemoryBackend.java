package io.ferryvm.cim;

import io.ferryvm.core.CoreException;
import io.ferryvm.core.Lifecycle;
import io.ferryvm.core.VmAction;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmStatus;
import io.ferryvm.core.host.HostInventory;
import io.ferryvm.core.machine.Binding;
import io.ferryvm.core.machine.MemoryPolicy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * A working backend in memory for the provider's own tests: hosts with declared NUMA topologies, VMs
 * whose lifecycle follows engine-core's {@link Lifecycle} table, and migrations the test moves through
 * their phases ({@link #progress}, {@link #finish}), with an event for every change. The cluster
 * module's tests run the same flows against a real embedded cluster.
 */
final class InMemoryBackend implements CimBackend {
    private final Map<String, Host> hosts = new LinkedHashMap<>();
    private final Map<String, Vm> vms = new LinkedHashMap<>();
    private final Map<UUID, Migration> migrations = new LinkedHashMap<>();
    private final List<Consumer<Event>> listeners = new CopyOnWriteArrayList<>();

    InMemoryBackend(String... hostNames) {
        for (String h : hostNames) {
            hosts.put(h, new Host(h, "pekko://ferry@127.0.0.1:25520", true, false, HostInventory.declared(h, 2, 2, 2, 4L << 30)));
        }
    }

    private void fire(Event e) {
        for (Consumer<Event> l : listeners) {
            l.accept(e);
        }
    }

    @Override
    public synchronized List<Host> hosts() {
        return List.copyOf(hosts.values());
    }

    @Override
    public synchronized List<Vm> vms() {
        return List.copyOf(vms.values());
    }

    @Override
    public synchronized Optional<Vm> vm(String name) {
        return Optional.ofNullable(vms.get(name));
    }

    private Vm require(String name) {
        Vm v = vms.get(name);
        if (v == null) {
            throw new CimException(CimStatus.NOT_FOUND, "no VM '" + name + "'");
        }
        return v;
    }

    private static Binding bindingOn(Host h, VmSpec spec) {
        List<List<Integer>> cpus = new ArrayList<>();
        List<Integer> node0 = h.inventory().node(0).cpus();
        for (int i = 0; i < spec.vcpus(); i++) {
            cpus.add(List.of(node0.get(i % node0.size())));
        }
        return new Binding(cpus, MemoryPolicy.bind(0));
    }

    @Override
    public Vm define(VmSpec spec, String host) {
        Vm v;
        synchronized (this) {
            Host h = hosts.get(host);
            if (h == null || !h.up()) {
                throw new CimException(CimStatus.NOT_FOUND, "no host '" + host + "' is up");
            }
            if (vms.containsKey(spec.name())) {
                throw new CimException(CimStatus.ALREADY_EXISTS, "a VM named " + spec.name() + " exists");
            }
            v = new Vm(spec, VmStatus.DEFINED, host, false, false, bindingOn(h, spec));
            vms.put(spec.name(), v);
        }
        fire(new VmUpdated(v));
        return v;
    }

    @Override
    public Vm changeState(String name, StateChange change) {
        Vm after;
        synchronized (this) {
            Vm v = require(name);
            VmAction action = switch (change) {
                case START -> VmAction.START;
                case STOP -> VmAction.STOP;
                case PAUSE -> VmAction.PAUSE;
                case RESUME -> VmAction.RESUME;
            };
            try {
                Lifecycle.Target t = Lifecycle.check(name, v.status(), action);
                VmStatus s = switch (t) {
                    case RUNNING -> VmStatus.RUNNING;
                    case PAUSED -> VmStatus.PAUSED;
                    default -> VmStatus.STOPPED;
                };
                after = new Vm(v.spec(), s, v.host(), false, false, v.binding());
            } catch (CoreException e) {
                throw new CimException(CimStatus.FAILED, e.getMessage());
            }
            vms.put(name, after);
        }
        fire(new VmUpdated(after));
        return after;
    }

    @Override
    public void destroy(String name) {
        UUID id;
        synchronized (this) {
            id = require(name).spec().id();
            vms.remove(name);
        }
        fire(new VmRemoved(id, name));
    }

    @Override
    public Vm redefine(String name, VmSpec spec) {
        Vm after;
        synchronized (this) {
            Vm v = require(name);
            if (v.status().isActive()) {
                throw new CimException(CimStatus.FAILED, "VM " + name + " is " + v.status() + ": stop it to change its definition");
            }
            after = new Vm(spec, v.status(), v.host(), false, false, bindingOn(hosts.get(v.host()), spec));
            vms.put(name, after);
        }
        fire(new VmUpdated(after));
        return after;
    }

    @Override
    public Vm relocate(String name, String host) {
        Vm after;
        synchronized (this) {
            Vm v = require(name);
            if (v.status().isActive()) {
                throw new CimException(CimStatus.FAILED, "VM " + name + " is active");
            }
            after = new Vm(v.spec(), v.status(), host, false, false, bindingOn(hosts.get(host), v.spec()));
            vms.put(name, after);
        }
        fire(new VmUpdated(after));
        return after;
    }

    @Override
    public synchronized Optional<String> migrationRefusal(String name, String host) {
        Vm v = require(name);
        if (!v.status().isActive()) {
            return Optional.of("VM " + name + " is " + v.status().name().toLowerCase() + ": only a running or paused VM can be live-migrated");
        }
        if (v.migrating()) {
            return Optional.of("VM " + name + " is already migrating");
        }
        if (host.equals(v.host())) {
            return Optional.of("VM " + name + " already runs on " + host);
        }
        if (!hosts.containsKey(host)) {
            return Optional.of("no host '" + host + "'");
        }
        return Optional.empty();
    }

    @Override
    public UUID migrate(String name, String host, MigrationTuning tuning) {
        Migration m;
        Vm after;
        synchronized (this) {
            migrationRefusal(name, host).ifPresent(why -> {
                throw new CimException(CimStatus.FAILED, why);
            });
            Vm v = vms.get(name);
            m = new Migration(UUID.randomUUID(), name, v.host(), host, Migration.Phase.RUNNING, "BEGUN", 0, 0, v.spec().memoryBytes(), 0);
            migrations.put(m.id(), m);
            after = new Vm(v.spec(), v.status(), v.host(), true, false, v.binding());
            vms.put(name, after);
        }
        fire(new VmUpdated(after));
        fire(new MigrationUpdated(m));
        return m.id();
    }

    /** The test moves a running migration on: percent done. */
    void progress(UUID id, int percent) {
        Migration m;
        synchronized (this) {
            Migration o = migrations.get(id);
            m = new Migration(id, o.vm(), o.source(), o.target(), Migration.Phase.RUNNING, "PERFORMING", percent,
                    o.remainingBytes() * percent / 100, o.remainingBytes() * (100 - percent) / 100, 0);
            migrations.put(id, m);
        }
        fire(new MigrationUpdated(m));
    }

    /** The test ends a migration: the VM moves on success. */
    void finish(UUID id, boolean success) {
        Migration m;
        Vm after;
        synchronized (this) {
            Migration o = migrations.get(id);
            m = new Migration(id, o.vm(), o.source(), o.target(), success ? Migration.Phase.COMPLETED : Migration.Phase.FAILED,
                    success ? "FINISHED" : "target refused the memory digest", 100, o.transferredBytes(), 0, success ? 42 : 0);
            migrations.put(id, m);
            Vm v = vms.get(o.vm());
            after = new Vm(v.spec(), v.status(), success ? o.target() : o.source(), false, false, v.binding());
            vms.put(o.vm(), after);
        }
        fire(new MigrationUpdated(m));
        fire(new VmUpdated(after));
    }

    @Override
    public void cancelMigration(UUID id) {
        synchronized (this) {
            if (!migrations.containsKey(id)) {
                throw new CimException(CimStatus.NOT_FOUND, "no migration " + id);
            }
        }
        finish(id, false);
    }

    @Override
    public synchronized List<Migration> migrations() {
        return List.copyOf(migrations.values());
    }

    @Override
    public AutoCloseable subscribe(Consumer<Event> listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    /** The test marks a host down (its VMs become lost). */
    void hostDown(String host) {
        synchronized (this) {
            Host h = hosts.get(host);
            hosts.put(host, new Host(h.name(), h.address(), false, h.draining(), h.inventory()));
            for (Map.Entry<String, Vm> e : vms.entrySet()) {
                Vm v = e.getValue();
                if (host.equals(v.host())) {
                    e.setValue(new Vm(v.spec(), v.status(), v.host(), false, true, v.binding()));
                }
            }
        }
        fire(new HostUpdated(host, false));
    }
}
