package io.ferryvm.cluster.agent;

import io.ferryvm.cluster.agent.AgentProtocol.Apply;
import io.ferryvm.cluster.agent.AgentProtocol.CheckGuest;
import io.ferryvm.cluster.agent.AgentProtocol.Command;
import io.ferryvm.cluster.agent.AgentProtocol.Define;
import io.ferryvm.cluster.agent.AgentProtocol.ErrorKind;
import io.ferryvm.cluster.agent.AgentProtocol.GetStatus;
import io.ferryvm.cluster.agent.AgentProtocol.GuestCheck;
import io.ferryvm.cluster.agent.AgentProtocol.HostStatus;
import io.ferryvm.cluster.agent.AgentProtocol.Reply;
import io.ferryvm.cluster.agent.AgentProtocol.SetDraining;
import io.ferryvm.cluster.agent.AgentProtocol.VmRecord;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol;
import io.ferryvm.core.CoreException;
import io.ferryvm.core.Host;
import io.ferryvm.core.Vm;
import io.ferryvm.core.VmInfo;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmStatus;
import io.ferryvm.core.guest.GuestReplay;
import io.ferryvm.core.guest.PageWalkCheck;
import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.machine.Machine;
import io.ferryvm.core.machine.MachineState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * The actor around one node's engine-core {@link Host}: applies requests, answers status, and reports to
 * the orchestrator (periodically and after every change). It runs on a blocking dispatcher because host
 * operations wait for vCPU safe points and disk syncs. The logic lives in {@link Host} and
 * {@link AgentState}; this class only translates messages.
 */
public final class HostAgent extends AbstractBehavior<Command> {
    public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "ferry-host-agent");
    static final Duration REPORT_EVERY = Duration.ofSeconds(2);

    /** Internal: time to report. */
    private enum Tick implements Command, org.apache.pekko.actor.NoSerializationVerificationNeeded { INSTANCE }

    /** Internal: the agent of a migration target is gone (its node left the cluster). */
    private record TargetGone(ActorRef<Command> target) implements Command, org.apache.pekko.actor.NoSerializationVerificationNeeded {}

    /** Targets of outgoing migrations, watched: their futures complete when the target's node leaves the cluster. */
    private final java.util.Map<ActorRef<Command>, java.util.concurrent.CompletableFuture<Void>> watchedTargets =
            new java.util.HashMap<>();

    private final Host host;
    private final AgentState state;
    private final String address;
    private final ActorRef<OrchestratorProtocol.Command> orchestrator;
    private final MigrationAgent migrations;
    /** The node's hypervisor driver's guests, or null on the built-in hypervisor. */
    private final DriverGuests guests;
    /** Their live migrations (null on the built-in hypervisor). */
    private final DriverMigrations driverMigrations;

    private HostAgent(ActorContext<Command> ctx, Host host, AgentState state, String address, MigrationAgent migrations,
            ActorRef<OrchestratorProtocol.Command> orchestrator, DriverGuests guests, DriverMigrations driverMigrations) {
        super(ctx);
        this.host = host;
        this.guests = guests;
        this.driverMigrations = driverMigrations;
        this.state = state;
        this.address = address;
        this.migrations = migrations;
        this.orchestrator = orchestrator;
    }

    /**
     * An agent for host, registered with the receptionist, reporting to the orchestrator through this
     * node's singleton proxy (so reports and migration outcomes reach whichever node runs it).
     */
    public static Behavior<Command> create(Host host, AgentState state, String address, MigrationAgent migrations,
            ActorRef<OrchestratorProtocol.Command> orchestrator) {
        return create(host, state, address, migrations, orchestrator, null);
    }

    /**
     * As above, the node's guests running on driver instead of the built-in hypervisor (null: built-in).
     * The node owns the driver and closes it.
     */
    public static Behavior<Command> create(Host host, AgentState state, String address, MigrationAgent migrations,
            ActorRef<OrchestratorProtocol.Command> orchestrator, io.ferryvm.core.HypervisorDriver driver) {
        DriverGuests guests = driver == null ? null : new DriverGuests(host, driver);
        // Outside the setup: a restarted agent keeps the migrations in flight.
        DriverMigrations driverMigrations = guests == null ? null : new DriverMigrations(guests, migrations.transport(), migrations.workers());
        // Restarted, never stopped, on an unexpected failure: a stopped agent would leave its host in the
        // cluster but deaf (no reports, no migrations, no checks) until the process restarts. Its state is
        // the host's own, so a restart loses nothing.
        return Behaviors.supervise(Behaviors.<Command>setup(ctx -> {
            ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
            return Behaviors.withTimers(timers -> {
                timers.startTimerWithFixedDelay(Tick.INSTANCE, REPORT_EVERY);
                return new HostAgent(ctx, host, state, address, migrations, orchestrator, guests, driverMigrations);
            });
        })).onFailure(RuntimeException.class, org.apache.pekko.actor.typed.SupervisorStrategy.restart());
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Define.class, this::onDefine)
                .onMessage(Apply.class, this::onApply)
                .onMessage(GetStatus.class, m -> {
                    m.replyTo().tell(status());
                    return this;
                })
                .onMessage(SetDraining.class, this::onDraining)
                .onMessage(CheckGuest.class, this::onCheck)
                .onMessage(AgentProtocol.MigrateOut.class, this::onMigrateOut)
                .onMessage(AgentProtocol.CancelOut.class, m -> {
                    if (!migrations.cancel(m.migrationId(), m.reason()) && driverMigrations != null) {
                        driverMigrations.cancel(m.migrationId());
                    }
                    return this;
                })
                .onMessage(TargetGone.class, m -> {
                    java.util.concurrent.CompletableFuture<Void> f = watchedTargets.remove(m.target());
                    if (f != null) {
                        f.complete(null);
                    }
                    return this;
                })
                .onMessage(AgentProtocol.PrepareIn.class, this::onPrepareIn)
                .onMessage(AgentProtocol.FinishIn.class, this::onFinishIn)
                .onMessage(AgentProtocol.AbortIn.class, this::onAbortIn)
                .onMessage(AgentProtocol.DriverPrepareIn.class, m -> driverIn(m.replyTo(), () -> {
                    io.ferryvm.migration.HypervisorMigration.Offer o = driverMigrations.prepareIn(m.migrationId(), m.spec(), m.options());
                    return new AgentProtocol.DriverAnswer(true, "", o.directUri(), o.tunnel(), o.token() == null ? null
                            : java.util.HexFormat.of().formatHex(o.token()), -1, false);
                }))
                .onMessage(AgentProtocol.DriverPostcopyIn.class, m -> driverIn(m.replyTo(), () -> {
                    driverMigrations.postcopyIn(m.migrationId());
                    return AgentProtocol.DriverAnswer.done(-1, false);
                }))
                .onMessage(AgentProtocol.DriverFinishIn.class, m -> driverIn(m.replyTo(),
                        () -> AgentProtocol.DriverAnswer.done(driverMigrations.finishIn(m.migrationId(), m.resume()), false)))
                .onMessage(AgentProtocol.DriverAbortIn.class, m -> driverIn(m.replyTo(), () -> {
                    DriverMigrations.AbortOutcome a = driverMigrations.abortIn(m.migrationId());
                    return AgentProtocol.DriverAnswer.done(a.resumedAt(), a.aborted());
                }))
                .onMessageEquals(Tick.INSTANCE, () -> {
                    report();
                    return this;
                })
                .build();
    }

    private Behavior<Command> onDefine(Define m) {
        Reply r = guests != null ? viaDriver(() -> guests.define(m.spec(), m.start())) : guarded(() -> {
            host.define(m.spec());
            if (m.start()) {
                try {
                    host.start(m.spec().id());
                } catch (RuntimeException e) {
                    host.undefine(m.spec().id()); // all or nothing: a VM that cannot start here is not left here
                    throw e;
                }
            }
            return host.info(m.spec().id());
        });
        m.replyTo().tell(r);
        report();
        return this;
    }

    private Behavior<Command> onApply(Apply m) {
        Reply r = guests != null ? viaDriver(() -> guests.apply(m.vm(), m.op())) : guarded(() -> {
            UUID id = m.vm();
            switch (m.op()) {
                case START -> host.start(id);
                case PAUSE -> host.pause(id);
                case RESUME -> host.resume(id);
                case STOP -> host.stop(id);
                case UNDEFINE -> {
                    VmInfo last = host.info(id);
                    host.undefine(id);
                    return last;
                }
            }
            return host.info(id);
        });
        m.replyTo().tell(r);
        report();
        return this;
    }

    private Behavior<Command> onDraining(SetDraining m) {
        Reply r = guarded(() -> {
            state.setDraining(m.draining());
            return null;
        });
        m.replyTo().tell(r);
        report();
        return this;
    }

    /** A driver target's step, on a worker (it blocks on QEMU): errors become a failed answer with their message. */
    private Behavior<Command> driverIn(ActorRef<AgentProtocol.DriverAnswer> replyTo,
            java.util.function.Supplier<AgentProtocol.DriverAnswer> step) {
        if (driverMigrations == null) {
            replyTo.tell(AgentProtocol.DriverAnswer.failed(host.name() + " runs its guests on the built-in hypervisor: "
                    + "a hypervisor driver's guest cannot migrate to it"));
            return this;
        }
        ActorRef<Command> self = getContext().getSelf();
        migrations.workers().execute(() -> {
            try {
                replyTo.tell(step.get());
            } catch (RuntimeException e) {
                replyTo.tell(AgentProtocol.DriverAnswer.failed(host.name() + " (" + guests.driverName() + "): " + e.getMessage()));
            }
            self.tell(Tick.INSTANCE);
        });
        return this;
    }

    private Behavior<Command> onMigrateOut(AgentProtocol.MigrateOut m) {
        ActorRef<Command> self = getContext().getSelf();
        if (guests != null) {
            try {
                driverMigrations.migrateOut(m.migrationId(), m.vm(), m.targetHost(), m.options(),
                        new AskDriverTarget(m.target(), getContext().getSystem(), goneFuture(m.target())),
                        p -> orchestrator.tell(new OrchestratorProtocol.MigrationUpdate(p)),
                        s -> {
                            orchestrator.tell(new OrchestratorProtocol.MigrationEnded(s));
                            self.tell(Tick.INSTANCE);
                        });
                m.replyTo().tell(Reply.ok(guests.info(m.vm())));
            } catch (CoreException e) {
                m.replyTo().tell(Reply.failed(kindOf(e), e.getMessage()));
            } catch (RuntimeException e) {
                m.replyTo().tell(Reply.failed(ErrorKind.FAILED, host.name() + " (" + guests.driverName() + "): " + e.getMessage()));
            }
            report();
            return this;
        }
        try {
            migrations.migrateOut(m.migrationId(), m.vm(), m.targetHost(), m.options(),
                    new AskTargetControl(m.target(), getContext().getSystem(), MigrationAgent.request(m.options()).timeout(),
                            goneFuture(m.target())),
                    p -> orchestrator.tell(new OrchestratorProtocol.MigrationUpdate(p)),
                    s -> {
                        orchestrator.tell(new OrchestratorProtocol.MigrationEnded(s));
                        self.tell(Tick.INSTANCE);
                    });
            m.replyTo().tell(Reply.ok(host.info(m.vm())));
        } catch (io.ferryvm.migration.MigrationException e) {
            m.replyTo().tell(Reply.failed(ErrorKind.ILLEGAL, e.failure().describe()));
        } catch (CoreException e) {
            m.replyTo().tell(Reply.failed(kindOf(e), e.getMessage()));
        }
        report();
        return this;
    }

    /** Completes when the target's node leaves the cluster (a watch per target agent, shared by its migrations). */
    private java.util.concurrent.CompletableFuture<Void> goneFuture(ActorRef<Command> target) {
        return watchedTargets.computeIfAbsent(target, t -> {
            getContext().watchWith(t, new TargetGone(t));
            return new java.util.concurrent.CompletableFuture<>();
        });
    }

    private Behavior<Command> onPrepareIn(AgentProtocol.PrepareIn m) {
        if (guests != null) {
            m.replyTo().tell(new AgentProtocol.Prepared(false, host.name() + " runs its guests on the " + guests.driverName()
                    + " hypervisor: a built-in guest cannot migrate to it", null));
            return this;
        }
        ActorRef<Command> self = getContext().getSelf();
        migrations.workers().execute(() -> {
            try {
                m.replyTo().tell(new AgentProtocol.Prepared(true, "", migrations.prepareIn(m.offer())));
            } catch (io.ferryvm.migration.MigrationException e) {
                m.replyTo().tell(new AgentProtocol.Prepared(false, e.failure().describe(), null));
            } catch (RuntimeException e) {
                m.replyTo().tell(new AgentProtocol.Prepared(false, "prepare on " + host.name() + " failed: " + e.getMessage(), null));
            }
            self.tell(Tick.INSTANCE);
        });
        return this;
    }

    private Behavior<Command> onFinishIn(AgentProtocol.FinishIn m) {
        ActorRef<Command> self = getContext().getSelf();
        migrations.workers().execute(() -> {
            try {
                m.replyTo().tell(new AgentProtocol.FinishReply(true, "", migrations.finishIn(m.migrationId())));
            } catch (io.ferryvm.migration.MigrationException e) {
                m.replyTo().tell(new AgentProtocol.FinishReply(false, e.failure().describe(), null));
            } catch (RuntimeException e) {
                m.replyTo().tell(new AgentProtocol.FinishReply(false, "finish on " + host.name() + " failed: " + e.getMessage(), null));
            }
            self.tell(Tick.INSTANCE);
        });
        return this;
    }

    private Behavior<Command> onAbortIn(AgentProtocol.AbortIn m) {
        ActorRef<Command> self = getContext().getSelf();
        migrations.workers().execute(() -> {
            MigrationAgent.AbortOutcome a = migrations.abortIn(m.migrationId(), m.reason());
            m.replyTo().tell(new AgentProtocol.AbortReply(a.aborted(), a.targetFailure(), a.finishedInstead()));
            self.tell(Tick.INSTANCE);
        });
        return this;
    }

    /** The replay can take a while: it runs on a worker, so the agent keeps answering meanwhile. */
    private Behavior<Command> onCheck(CheckGuest m) {
        if (guests != null) {
            m.replyTo().tell(new GuestCheck(m.vm(), false, host.name() + " runs its guests on the " + guests.driverName()
                    + " hypervisor: a real guest has no deterministic replay to check against", 0, new long[0]));
            return this;
        }
        migrations.workers().execute(() -> m.replyTo().tell(checkGuest(host, m.vm())));
        return this;
    }

    /** Pauses the VM, compares its memory with the deterministic replay, resumes it as it was. */
    static GuestCheck checkGuest(Host host, UUID id) {
        try {
            Vm vm = host.vm(id);
            VmStatus before = vm.status();
            if (before != VmStatus.RUNNING && before != VmStatus.PAUSED) {
                return new GuestCheck(id, false, "VM is " + before.name().toLowerCase() + ": nothing to check", 0, new long[0]);
            }
            if (before == VmStatus.RUNNING) {
                host.pause(id);
            }
            Machine m = vm.machine();
            MachineState st = m.saveState();
            long digest = m.memory().digest();
            long[] steps = GuestReplay.stepsOf(st);
            String walk = "";
            boolean ok;
            Workload w = vm.spec().workload();
            if (w instanceof Workload.PageWalk pw) {
                PageWalkCheck.Result r = PageWalkCheck.registerRule(m.memory(), pw, st);
                ok = r.ok();
                walk = "; " + r;
            } else {
                ok = true;
            }
            if (before == VmStatus.RUNNING) {
                host.resume(id);
            }
            long replay = GuestReplay.digest(w, vm.spec().memoryBytes(), steps, 600_000);
            ok &= replay == digest;
            String detail = String.format("digest %016x, replay %016x at steps %s%s", digest, replay,
                    java.util.Arrays.toString(steps), walk);
            return new GuestCheck(id, ok, detail, digest, steps);
        } catch (CoreException e) {
            return new GuestCheck(id, false, e.getMessage(), 0, new long[0]);
        }
    }

    HostStatus status() {
        List<VmRecord> vms = new ArrayList<>();
        long reserved = 0;
        for (VmInfo i : guests != null ? guests.list() : host.list()) {
            VmSpec spec;
            try {
                spec = host.vm(i.id()).spec();
            } catch (CoreException gone) {
                continue; // it left between the listing and the lookup (an incoming migration aborted on a worker)
            }
            vms.add(new VmRecord(spec, i));
            if (i.status().isActive()) {
                reserved += i.memoryBytes();
            }
        }
        return new HostStatus(host.name(), address, host.inventory(), vms, state.draining(), reserved,
                guests == null ? io.ferryvm.core.HypervisorDriver.BUILTIN : guests.driverName(),
                guests == null ? io.ferryvm.core.HypervisorDriver.BUILTIN : guests.driver().accelerator());
    }

    private void report() {
        orchestrator.tell(new OrchestratorProtocol.HostReport(status(), getContext().getSelf()));
    }

    /** A driver operation: as {@link #guarded}, and the driver's own errors (e.g. QEMU's) become FAILED with their message. */
    private Reply viaDriver(java.util.function.Supplier<VmInfo> op) {
        try {
            return guarded(op);
        } catch (RuntimeException e) {
            return Reply.failed(ErrorKind.FAILED, host.name() + " (" + guests.driverName() + "): " + e.getMessage());
        }
    }


    /** Runs a host operation; engine-core errors become a reply with their kind and message. */
    static Reply guarded(java.util.function.Supplier<VmInfo> op) {
        try {
            return Reply.ok(op.get());
        } catch (CoreException e) {
            return Reply.failed(kindOf(e), e.getMessage());
        } catch (IllegalArgumentException e) {
            return Reply.failed(ErrorKind.INVALID, e.getMessage());
        }
    }

    static ErrorKind kindOf(CoreException e) {
        return switch (e.kind()) {
            case NOT_FOUND -> ErrorKind.NOT_FOUND;
            case ILLEGAL_TRANSITION -> ErrorKind.ILLEGAL;
            case INVALID_SPEC -> ErrorKind.INVALID;
            case RESOURCES -> ErrorKind.RESOURCES;
            case ALREADY_EXISTS -> ErrorKind.ALREADY_EXISTS;
            default -> ErrorKind.FAILED;
        };
    }
}
