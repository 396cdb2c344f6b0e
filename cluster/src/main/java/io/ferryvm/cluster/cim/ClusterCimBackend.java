package io.ferryvm.cluster.cim;

import io.ferryvm.cim.CimBackend;
import io.ferryvm.cim.CimException;
import io.ferryvm.cim.CimStatus;
import io.ferryvm.cluster.agent.AgentProtocol;
import io.ferryvm.cluster.api.ClusterApi;
import io.ferryvm.cluster.api.ClusterEvent;
import io.ferryvm.cluster.api.MigrationOptions;
import io.ferryvm.cluster.api.MigrationProgress;
import io.ferryvm.cluster.api.MigrationSummary;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol;
import io.ferryvm.core.VmSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The CIM provider's backend over the cluster's Java API ({@link ClusterApi}), on any node: every call
 * asks the orchestrator singleton and waits for its answer (on the CIM server's worker threads), and
 * cluster events are forwarded to the provider through a small actor. The cluster's refusals become
 * {@link CimException}s with the cluster's own message.
 *
 * <p>The cluster redefines no VM in place, so {@link #redefine} and {@link #relocate} (for inactive VMs
 * only) undefine the VM and define it again with the same id, and put the previous definition back if
 * the new one is refused.
 */
public final class ClusterCimBackend implements CimBackend {
    static final Duration WAIT = ClusterApi.TIMEOUT.plusSeconds(5);

    private final ClusterApi api;

    public ClusterCimBackend(ClusterApi api) {
        this.api = api;
    }

    private static <T> T await(CompletionStage<T> stage, String what) {
        try {
            return stage.toCompletableFuture().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable c = e.getCause() == null ? e : e.getCause();
            throw new CimException(CimStatus.FAILED, what + ": the cluster did not answer (" + c.getMessage() + ")", c);
        } catch (TimeoutException e) {
            throw new CimException(CimStatus.FAILED, what + ": the cluster did not answer within " + WAIT.toSeconds() + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CimException(CimStatus.FAILED, what + ": interrupted", e);
        }
    }

    private static Vm check(OrchestratorProtocol.Result r) {
        if (!r.ok()) {
            throw refusal(r.error(), r.message());
        }
        return r.vm() == null ? null : vm(r.vm());
    }

    static CimException refusal(AgentProtocol.ErrorKind kind, String message) {
        CimStatus s = switch (kind) {
            case NOT_FOUND -> CimStatus.NOT_FOUND;
            case INVALID -> CimStatus.INVALID_PARAMETER;
            case ALREADY_EXISTS -> CimStatus.ALREADY_EXISTS;
            default -> CimStatus.FAILED;
        };
        return new CimException(s, message);
    }

    static Vm vm(OrchestratorProtocol.VmView v) {
        return new Vm(v.spec(), v.info().status(), v.host(), v.placement() == OrchestratorProtocol.Placement.MIGRATING,
                v.placement() == OrchestratorProtocol.Placement.LOST, v.info().binding());
    }

    @Override
    public List<Host> hosts() {
        List<Host> out = new ArrayList<>();
        for (OrchestratorProtocol.HostView h : await(api.hosts(), "listing hosts").hosts()) {
            if (h.status() != null && h.status().inventory() != null) {
                out.add(new Host(h.host(), h.address(), h.up(), h.draining(), h.status().inventory()));
            }
        }
        return out;
    }

    @Override
    public List<Vm> vms() {
        return await(api.vms(), "listing VMs").vms().stream().map(ClusterCimBackend::vm).toList();
    }

    @Override
    public Optional<Vm> vm(String name) {
        OrchestratorProtocol.Result r = await(api.vm(name), "looking up VM " + name);
        if (!r.ok() && r.error() == AgentProtocol.ErrorKind.NOT_FOUND) {
            return Optional.empty();
        }
        return Optional.ofNullable(check(r));
    }

    private Vm existing(String name) {
        return vm(name).orElseThrow(() -> new CimException(CimStatus.NOT_FOUND, "no VM '" + name + "' in the cluster"));
    }

    @Override
    public Vm define(VmSpec spec, String host) {
        return check(await(api.define(spec, host, false), "defining VM " + spec.name()));
    }

    @Override
    public Vm changeState(String vm, StateChange change) {
        AgentProtocol.Op op = switch (change) {
            case START -> AgentProtocol.Op.START;
            case STOP -> AgentProtocol.Op.STOP;
            case PAUSE -> AgentProtocol.Op.PAUSE;
            case RESUME -> AgentProtocol.Op.RESUME;
        };
        return check(await(api.act(vm, op), op.name().toLowerCase() + " of VM " + vm));
    }

    @Override
    public void destroy(String vm) {
        Vm v = existing(vm);
        if (v.status().isActive()) {
            changeState(vm, StateChange.STOP);
        }
        check(await(api.act(vm, AgentProtocol.Op.UNDEFINE), "undefining VM " + vm));
    }

    @Override
    public Vm redefine(String vm, VmSpec spec) {
        Vm v = inactive(vm, "change its definition");
        if (!spec.id().equals(v.spec().id())) {
            throw new CimException(CimStatus.INVALID_PARAMETER, "a VM's id cannot change (" + v.spec().id() + ")");
        }
        return replace(v, spec, v.host());
    }

    @Override
    public Vm relocate(String vm, String host) {
        Vm v = inactive(vm, "move its definition");
        return replace(v, v.spec(), host);
    }

    private Vm inactive(String vm, String what) {
        Vm v = existing(vm);
        if (v.status().isActive() || v.migrating() || v.lost()) {
            throw new CimException(CimStatus.FAILED, "VM " + vm + " is " + (v.lost() ? "lost with its host"
                    : v.status().name().toLowerCase()) + ": stop it to " + what);
        }
        return v;
    }

    /** Undefine, then define the new spec on host; on refusal the old definition goes back where it was. */
    private Vm replace(Vm old, VmSpec spec, String host) {
        check(await(api.act(old.name(), AgentProtocol.Op.UNDEFINE), "undefining VM " + old.name()));
        OrchestratorProtocol.Result r = await(api.define(spec, host, false), "defining VM " + spec.name() + " on " + host);
        if (r.ok()) {
            return vm(r.vm());
        }
        OrchestratorProtocol.Result back = await(api.define(old.spec(), old.host(), false), "restoring VM " + old.name());
        if (!back.ok()) {
            throw new CimException(CimStatus.FAILED, "VM " + old.name() + " could not be redefined (" + r.message()
                    + ") nor restored (" + back.message() + ")");
        }
        throw refusal(r.error(), r.message());
    }

    @Override
    public Optional<String> migrationRefusal(String vm, String host) {
        Vm v = existing(vm);
        if (v.lost()) {
            return Optional.of("VM " + vm + " is lost with host " + v.host());
        }
        if (v.migrating()) {
            return Optional.of("VM " + vm + " is already migrating");
        }
        if (!v.status().isActive()) {
            return Optional.of("VM " + vm + " is " + v.status().name().toLowerCase() + ": only a running or paused VM can be live-migrated");
        }
        if (host.equals(v.host())) {
            return Optional.of("VM " + vm + " already runs on " + host);
        }
        Optional<Host> h = hosts().stream().filter(x -> x.name().equals(host)).findFirst();
        if (h.isEmpty() || !h.get().up()) {
            return Optional.of("no host '" + host + "' is up in the cluster");
        }
        if (h.get().draining()) {
            return Optional.of("host " + host + " is draining for maintenance");
        }
        return Optional.empty();
    }

    @Override
    public UUID migrate(String vm, String host, MigrationTuning t) {
        MigrationOptions options;
        try {
            options = new MigrationOptions(t.downtimeLimitMs(), t.bandwidthMiBps(), t.channels(), t.compression(), t.autoConverge(),
                    t.postCopy(), MigrationOptions.DEFAULT.maxIterations(), t.timeoutSeconds());
        } catch (IllegalArgumentException e) {
            throw new CimException(CimStatus.INVALID_PARAMETER, "migration settings: " + e.getMessage());
        }
        OrchestratorProtocol.MigrationAccepted a = await(api.migrate(vm, host, options), "migrating VM " + vm);
        if (!a.ok()) {
            throw new CimException(CimStatus.FAILED, a.message());
        }
        return a.migrationId();
    }

    @Override
    public void cancelMigration(UUID migration) {
        check(await(api.cancelMigration(migration), "cancelling migration " + migration));
    }

    @Override
    public List<Migration> migrations() {
        List<Migration> out = new ArrayList<>();
        for (OrchestratorProtocol.MigrationView m : await(api.migrations(), "listing migrations").migrations()) {
            out.add(migration(m));
        }
        return out;
    }

    static Migration migration(OrchestratorProtocol.MigrationView m) {
        MigrationSummary s = m.summary();
        if (s != null) {
            return ended(s, m.vmName());
        }
        MigrationProgress p = m.progress();
        if (p == null) {
            return new Migration(m.migrationId(), m.vmName(), m.source(), m.target(), Migration.Phase.QUEUED, m.state(), 0, 0, 0, 0);
        }
        return running(p, m.vmName());
    }

    static Migration ended(MigrationSummary s, String vmName) {
        return new Migration(s.migrationId(), vmName != null ? vmName : s.vmName(), s.source(), s.target(),
                s.success() ? Migration.Phase.COMPLETED : Migration.Phase.FAILED, s.success() ? "FINISHED" : s.failure(),
                s.success() ? 100 : 0, s.wireBytes(), 0, s.downtimeMs());
    }

    static Migration running(MigrationProgress p, String vmName) {
        return new Migration(p.migrationId(), vmName != null ? vmName : p.vm().toString(), p.source(), p.target(),
                Migration.Phase.RUNNING, p.phase(), percent(p), p.transferredBytes(), p.remainingBytes(), 0);
    }

    /**
     * An estimate from the protocol phase: the pre-copy share grows as the remaining dirty memory
     * shrinks against what was sent; switch-over and post-copy are near the end.
     */
    static int percent(MigrationProgress p) {
        switch (p.phase()) {
            case "BEGUN":
                return 5;
            case "PREPARED":
                return 10;
            case "PERFORMING": {
                double sent = p.transferredBytes();
                double left = p.remainingBytes();
                return 10 + (int) (80 * (sent + left == 0 ? 0 : sent / (sent + left)));
            }
            case "SWITCHED_OVER":
                return 92;
            case "POSTCOPY":
                return 95;
            case "FINISHED":
                return 99;
            default:
                return 0;
        }
    }

    @Override
    public AutoCloseable subscribe(Consumer<Event> listener) {
        ActorRef<Object> forwarder = api.system().systemActorOf(forward(listener), "cim-events-" + UUID.randomUUID(), Props.empty());
        api.subscribe(forwarder.narrow());
        return () -> {
            api.unsubscribe(forwarder.narrow());
            forwarder.tell(Stop.INSTANCE);
        };
    }

    private enum Stop implements org.apache.pekko.actor.NoSerializationVerificationNeeded { INSTANCE }

    /** Forwards cluster events to the provider until told to stop. */
    private static Behavior<Object> forward(Consumer<Event> listener) {
        return Behaviors.receive(Object.class)
                .onMessage(ClusterEvent.class, e -> {
                    Event out = translate(e);
                    if (out != null) {
                        listener.accept(out);
                    }
                    return Behaviors.same();
                })
                .onMessageEquals(Stop.INSTANCE, Behaviors::stopped)
                .build();
    }

    static Event translate(ClusterEvent e) {
        if (e instanceof ClusterEvent.VmChanged c) {
            return new VmUpdated(vm(c.vm()));
        }
        if (e instanceof ClusterEvent.VmRemoved r) {
            return new VmRemoved(r.vm(), r.name());
        }
        if (e instanceof ClusterEvent.HostChanged h) {
            return new HostUpdated(h.host(), h.up());
        }
        if (e instanceof ClusterEvent.Migration m) {
            return new MigrationUpdated(m.summary() != null ? ended(m.summary(), null) : running(m.progress(), null));
        }
        return null;
    }
}
