package io.ferryvm.cluster.orchestrator;

import io.ferryvm.cluster.agent.AgentProtocol;
import io.ferryvm.cluster.agent.AgentProtocol.ErrorKind;
import io.ferryvm.cluster.agent.AgentProtocol.Op;
import io.ferryvm.cluster.api.ClusterEvent;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol.Act;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol.CheckGuest;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol.Command;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol.Define;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol.GetVm;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol.HostList;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol.HostReport;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol.ListHosts;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol.ListVms;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol.Result;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol.VmList;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmStatus;
import java.time.Duration;
import java.util.HashMap;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.LWWMapKey;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.apache.pekko.cluster.ddata.typed.javadsl.ReplicatorMessageAdapter;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.ClusterEvent.MemberRemoved;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * The cluster singleton that keeps the VM directory and decides: placement of new VMs, HA restarts of
 * VMs whose host died, migrations and evacuation/rebalance plans. Its state is rebuilt from the host
 * agents' reports (every agent is asked for its status when a new orchestrator starts), so it survives
 * the singleton moving to another node. It never answers a request before the agent that holds the
 * outcome has made it durable.
 */
public final class Orchestrator extends AbstractBehavior<Command> {
    static final Duration ASK_TIMEOUT = Duration.ofSeconds(60);

    /** How long after a host is removed before its HA VMs are restarted elsewhere (the removed side stops its VMs first). */
    private final Duration haRestartDelay;

    // ---- internal (local) messages ----
    private record AgentsListed(Receptionist.Listing listing) implements Command, NoSerializationVerificationNeeded {}

    private record MemberGone(MemberRemoved event) implements Command, NoSerializationVerificationNeeded {}

    /** An agent's answer; op null means a define (of spec). */
    private record AgentReplied(AgentProtocol.Reply reply, Throwable failure, Runnable then, ActorRef<Result> replyTo,
            String host, UUID vm, Op op, VmSpec spec) implements Command, NoSerializationVerificationNeeded {}

    private record HaRestart(String deadHost) implements Command, NoSerializationVerificationNeeded {}

    private record ReplicaRead(Replicator.GetResponse<LWWMap<String, OrchestratorProtocol.DirectoryRecord>> response, boolean local)
            implements Command, NoSerializationVerificationNeeded {}

    /** Debounced replica write: changes within REPLICA_DEBOUNCE go out as one update. */
    private enum SyncReplica implements Command, NoSerializationVerificationNeeded { INSTANCE }

    static final Duration REPLICA_DEBOUNCE = Duration.ofMillis(100);

    private record ReplicaWritten(Replicator.UpdateResponse<LWWMap<String, OrchestratorProtocol.DirectoryRecord>> response)
            implements Command, NoSerializationVerificationNeeded {}

    static final Key<LWWMap<String, OrchestratorProtocol.DirectoryRecord>> REPLICA_KEY = LWWMapKey.create("ferry-vm-directory");

    private record RestartResult(UUID vm, String host, AgentProtocol.Reply reply, Throwable failure)
            implements Command, NoSerializationVerificationNeeded {}

    private final Directory directory = new Directory();
    private final Map<String, ActorRef<AgentProtocol.Command>> agents = new HashMap<>();
    private final Set<UUID> pendingDefines = new HashSet<>();
    private final Placements placement;
    private final ActorRef<Topic.Command<ClusterEvent>> events;
    private final TimerScheduler<Command> timers;
    private final MigrationCoordinator migrations;
    private final ReplicatorMessageAdapter<Command, LWWMap<String, OrchestratorProtocol.DirectoryRecord>> replica;
    private final SelfUniqueAddress selfAddress;
    /** What this orchestrator last wrote to the replica, so only changes are written. */
    private Map<UUID, OrchestratorProtocol.DirectoryRecord> written = new HashMap<>();
    private final Map<String, String> knownAddresses = new HashMap<>();
    private boolean seeded;
    /** The whole cluster is stopping (a planned stop): hosts that leave are not failures. */
    private boolean stopping;

    private Orchestrator(ActorContext<Command> ctx, TimerScheduler<Command> timers, Placements placement,
            ActorRef<Topic.Command<ClusterEvent>> events, Duration haRestartDelay,
            ReplicatorMessageAdapter<Command, LWWMap<String, OrchestratorProtocol.DirectoryRecord>> replica) {
        super(ctx);
        this.replica = replica;
        this.selfAddress = DistributedData.get(ctx.getSystem()).selfUniqueAddress();
        this.timers = timers;
        this.placement = placement;
        this.events = events;
        this.haRestartDelay = haRestartDelay;
        this.migrations = new MigrationCoordinator(ctx, directory, agents, placement, events, this::askStatus);
    }

    public static Behavior<Command> create(Placements placement, ActorRef<Topic.Command<ClusterEvent>> events,
            Duration haRestartDelay) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
            ActorRef<Receptionist.Listing> listings = ctx.messageAdapter(Receptionist.Listing.class, AgentsListed::new);
            ctx.getSystem().receptionist().tell(Receptionist.subscribe(io.ferryvm.cluster.agent.HostAgent.KEY, listings));
            ActorRef<MemberRemoved> removed = ctx.messageAdapter(MemberRemoved.class, MemberGone::new);
            Cluster.get(ctx.getSystem()).subscriptions().tell(Subscribe.create(removed, MemberRemoved.class));
            ctx.getLog().info("orchestrator started on {}", Cluster.get(ctx.getSystem()).selfMember().address());
            return DistributedData.<Command, LWWMap<String, OrchestratorProtocol.DirectoryRecord>>withReplicatorMessageAdapter(
                    adapter -> {
                        Orchestrator o = new Orchestrator(ctx, timers, placement, events, haRestartDelay, adapter);
                        o.readReplica(false);
                        return o;
                    });
        }));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessageEquals(OrchestratorProtocol.Stop.INSTANCE, Behaviors::stopped)
                .onMessage(AgentsListed.class, this::onListing)
                .onMessage(HostReport.class, this::onReport)
                .onMessage(MemberGone.class, this::onMemberGone)
                .onMessage(HaRestart.class, this::onHaRestart)
                .onMessage(ReplicaRead.class, this::onReplicaRead)
                .onMessageEquals(SyncReplica.INSTANCE, () -> {
                    writeReplica();
                    return this;
                })
                .onMessage(ReplicaWritten.class, m -> {
                    // A write every node did not confirm in time is still applied here and spreads by gossip
                    // (every 500 ms): no retry, which under load would only add more writes.
                    if (!(m.response() instanceof Replicator.UpdateSuccess)) {
                        getContext().getLog().debug("directory replica write not confirmed by every node in time ({})",
                                m.response().getClass().getSimpleName());
                    }
                    return this;
                })
                .onMessage(Define.class, this::onDefine)
                .onMessage(Act.class, this::onAct)
                .onMessage(AgentReplied.class, this::onAgentReplied)
                .onMessage(GetVm.class, m -> {
                    m.replyTo().tell(directory.vm(m.vm()).map(e -> new Result(true, ErrorKind.NONE, "", Directory.view(e)))
                            .orElse(Result.failed(ErrorKind.NOT_FOUND, "no VM '" + m.vm() + "' in the cluster")));
                    return this;
                })
                .onMessage(ListVms.class, m -> {
                    m.replyTo().tell(new VmList(directory.vmViews()));
                    return this;
                })
                .onMessage(ListHosts.class, m -> {
                    m.replyTo().tell(new HostList(directory.hostViews()));
                    return this;
                })
                .onMessage(CheckGuest.class, this::onCheck)
                .onMessage(OrchestratorProtocol.Migrate.class, m -> {
                    migrations.start(m);
                    return this;
                })
                .onMessage(OrchestratorProtocol.CancelMigration.class, m -> {
                    migrations.cancel(m);
                    return this;
                })
                .onMessage(OrchestratorProtocol.ListMigrations.class, m -> {
                    m.replyTo().tell(migrations.list());
                    return this;
                })
                .onMessage(OrchestratorProtocol.MigrationUpdate.class, m -> {
                    migrations.progress(m.progress());
                    return this;
                })
                .onMessage(OrchestratorProtocol.MigrationEnded.class, m -> {
                    migrations.ended(m.summary());
                    syncReplica();
                    return this;
                })
                .onMessage(OrchestratorProtocol.Evacuate.class, m -> {
                    migrations.evacuate(m);
                    return this;
                })
                .onMessage(OrchestratorProtocol.Rebalance.class, m -> {
                    migrations.rebalance(m);
                    return this;
                })
                .onMessage(OrchestratorProtocol.ClusterStopping.class, m -> {
                    stopping = true;
                    knownAddresses.keySet().forEach(h -> timers.cancel("ha-" + h)); // would start VMs on hosts about to stop
                    getContext().getLog().info("the whole cluster is stopping: hosts leaving now are not failures");
                    m.replyTo().tell(new OrchestratorProtocol.Result(true, null, "stopping", null));
                    return this;
                })
                .onMessage(MigrationCoordinator.Internal.class, m -> {
                    migrations.onInternal(m);
                    return this;
                })
                .build();
    }

    // ---- the replicated directory ----

    private void readReplica(boolean local) {
        replica.askGet(r -> new Replicator.Get<>(REPLICA_KEY, local ? Replicator.readLocal()
                : new Replicator.ReadMajority(Duration.ofSeconds(3)), r), rsp -> new ReplicaRead(rsp, local));
    }

    /**
     * A new orchestrator seeds its directory from the replica: VMs whose host is no live member are LOST
     * (and restarted elsewhere if their spec says ha: restart), even when that host died with the
     * previous orchestrator and will never report again.
     */
    private Behavior<Command> onReplicaRead(ReplicaRead m) {
        if (m.response() instanceof Replicator.GetFailure && !m.local()) {
            readReplica(true);
            return this;
        }
        seeded = true;
        if (!(m.response() instanceof Replicator.GetSuccess<LWWMap<String, OrchestratorProtocol.DirectoryRecord>> ok)) {
            getContext().getLog().info("directory replica is empty ({})", m.response().getClass().getSimpleName());
            syncReplica();
            return this;
        }
        getContext().getLog().info("directory replica holds {} VM(s)", ok.get(REPLICA_KEY).getEntries().size());
        Set<String> alive = new HashSet<>();
        for (org.apache.pekko.cluster.Member mem : Cluster.get(getContext().getSystem()).state().getMembers()) {
            if (mem.status() == org.apache.pekko.cluster.MemberStatus.up() || mem.status() == org.apache.pekko.cluster.MemberStatus.weaklyUp()
                    || mem.status() == org.apache.pekko.cluster.MemberStatus.joining()) {
                alive.add(mem.address().toString());
            }
        }
        Set<String> deadHosts = new HashSet<>();
        for (OrchestratorProtocol.DirectoryRecord r : ok.get(REPLICA_KEY).getEntries().values()) {
            knownAddresses.put(r.host(), r.hostAddress());
            boolean hostAlive = alive.contains(r.hostAddress());
            if (directory.seed(r, hostAlive)) {
                written.put(r.spec().id(), r);
                if (!hostAlive) {
                    deadHosts.add(r.host());
                }
            }
        }
        for (String h : deadHosts) {
            getContext().getLog().warn("host {} is gone (it left with the previous orchestrator): its VMs are lost", h);
            timers.startSingleTimer("ha-" + h, new HaRestart(h), haRestartDelay);
        }
        syncReplica();
        return this;
    }

    /** Schedules a write of what changed in the directory to the replica (coalesced over 100 ms). */
    private void syncReplica() {
        if (seeded && !timers.isTimerActive("replica-sync")) {
            timers.startSingleTimer("replica-sync", SyncReplica.INSTANCE, REPLICA_DEBOUNCE);
        }
    }

    /** Writes what changed in the directory to the replica, on every node. */
    private void writeReplica() {
        if (!seeded) {
            return; // never overwrite what the previous orchestrator knew before it is read
        }
        Map<UUID, OrchestratorProtocol.DirectoryRecord> now = directory.records(knownAddresses);
        if (now.equals(written)) {
            return;
        }
        Map<UUID, OrchestratorProtocol.DirectoryRecord> before = written;
        written = now;
        replica.askUpdate(r -> new Replicator.Update<>(REPLICA_KEY, LWWMap.empty(), new Replicator.WriteAll(Duration.ofSeconds(3)),
                r, map -> {
                    LWWMap<String, OrchestratorProtocol.DirectoryRecord> m = map;
                    for (UUID id : before.keySet()) {
                        if (!now.containsKey(id)) {
                            m = m.remove(selfAddress, id.toString());
                        }
                    }
                    for (Map.Entry<UUID, OrchestratorProtocol.DirectoryRecord> e : now.entrySet()) {
                        if (!e.getValue().equals(before.get(e.getKey()))) {
                            m = m.put(selfAddress, e.getKey().toString(), e.getValue());
                        }
                    }
                    return m;
                }), ReplicaWritten::new);
    }

    // ---- membership and reports ----

    private Behavior<Command> onListing(AgentsListed m) {
        // A new agent (or a new orchestrator seeing all agents): ask each for its full status.
        for (ActorRef<AgentProtocol.Command> a : m.listing().getServiceInstances(io.ferryvm.cluster.agent.HostAgent.KEY)) {
            if (!agents.containsValue(a)) {
                getContext().ask(AgentProtocol.HostStatus.class, a, ASK_TIMEOUT, AgentProtocol.GetStatus::new,
                        (status, failure) -> status != null ? new HostReport(status, a) : new HostReport(null, a));
            }
        }
        return this;
    }

    private Behavior<Command> onReport(HostReport m) {
        if (m.status() == null) {
            return this;
        }
        boolean isNew = !agents.containsKey(m.status().host()) || !directory.hostUp(m.status().host());
        agents.put(m.status().host(), m.agent());
        Map<UUID, VmStatus> before = new HashMap<>();
        directory.vmsOn(m.status().host()).forEach(v -> before.put(v.spec().id(), v.info().status()));
        directory.report(m.status());
        placement.hostReported(m.status(), directory);
        if (isNew) {
            events.tell(Topic.publish(new ClusterEvent.HostChanged(m.status().host(), true, m.status().draining())));
        }
        for (AgentProtocol.VmRecord r : m.status().vms()) {
            if (before.get(r.spec().id()) != r.info().status()) {
                directory.vm(r.spec().id()).ifPresent(e -> events.tell(Topic.publish(new ClusterEvent.VmChanged(Directory.view(e)))));
            }
        }
        for (Directory.StaleCopy s : directory.staleCopies()) {
            ActorRef<AgentProtocol.Command> a = agents.get(s.host());
            if (a != null) {
                getContext().getLog().warn("VM {} lives on elsewhere: removing its stale copy on {}", s.vm(), s.host());
                a.tell(new AgentProtocol.Apply(s.vm(), Op.UNDEFINE, getContext().getSystem().ignoreRef()));
            }
        }
        migrations.resumeDrains();
        knownAddresses.put(m.status().host(), m.status().address());
        syncReplica();
        return this;
    }

    private Behavior<Command> onMemberGone(MemberGone m) {
        String address = m.event().member().address().toString();
        Optional<Directory.HostEntry> h = directory.hostByAddress(address);
        if (h.isEmpty()) {
            return this;
        }
        String host = h.get().host();
        agents.remove(host);
        if (stopping) {
            // the whole cluster is stopping: its VMs stop with their hosts and start with them again, nothing is lost
            getContext().getLog().info("host {} stopped with the cluster", host);
            return this;
        }
        List<Directory.VmEntry> lost = directory.hostDown(host);
        placement.hostDown(host);
        getContext().getLog().warn("host {} left the cluster: {} VM(s) lost", host, lost.size());
        events.tell(Topic.publish(new ClusterEvent.HostChanged(host, false, false)));
        lost.forEach(v -> events.tell(Topic.publish(new ClusterEvent.VmChanged(Directory.view(v)))));
        migrations.hostDown(host);
        timers.startSingleTimer("ha-" + host, new HaRestart(host), haRestartDelay);
        syncReplica();
        return this;
    }

    private Behavior<Command> onHaRestart(HaRestart m) {
        for (Directory.VmEntry v : directory.vmsOnIncludingLost(m.deadHost())) {
            if (v.placement() != OrchestratorProtocol.Placement.LOST || v.spec().ha() != VmSpec.HaPolicy.RESTART) {
                continue;
            }
            io.ferryvm.numa.Fit fit = placement.placeNewLike(v.spec(), m.deadHost()); // a host that can run its kind of guest
            if (!(fit instanceof io.ferryvm.numa.Placement target)) {
                getContext().getLog().error("HA restart of {}: no host fits ({})", v.spec().name(), fit);
                continue;
            }
            ActorRef<AgentProtocol.Command> a = agents.get(target.host());
            getContext().getLog().warn("HA restart of {} (lost with {}) on {}", v.spec().name(), m.deadHost(), target.host());
            String to = target.host();
            VmSpec next = io.ferryvm.cluster.agent.Epochs.next(v.spec());
            getContext().ask(AgentProtocol.Reply.class, a, ASK_TIMEOUT, r -> new AgentProtocol.Define(next, true, r),
                    (reply, failure) -> new RestartResult(v.spec().id(), to, reply, failure));
        }
        return this;
    }

    private Behavior<Command> onRestartResult(RestartResult m) {
        if (m.reply() != null && m.reply().ok()) {
            directory.vm(m.vm()).ifPresent(e -> {
                directory.moved(io.ferryvm.cluster.agent.Epochs.next(e.spec()), m.reply().vm(), m.host());
                directory.vm(m.vm()).ifPresent(n -> events.tell(Topic.publish(new ClusterEvent.VmChanged(Directory.view(n)))));
            });
            syncReplica();
        } else {
            placement.release(m.vm());
            getContext().getLog().error("HA restart of {} on {} failed: {}", m.vm(), m.host(),
                    m.reply() != null ? m.reply().message() : String.valueOf(m.failure()));
        }
        return this;
    }

    // ---- VM requests ----

    private Behavior<Command> onDefine(Define m) {
        VmSpec spec = m.spec();
        if (directory.vm(spec.id()).isPresent() || pendingDefines.contains(spec.id())) {
            m.replyTo().tell(Result.failed(ErrorKind.ALREADY_EXISTS, "VM " + spec.id() + " already exists in the cluster"));
            return this;
        }
        if (directory.nameTaken(spec.name())) {
            m.replyTo().tell(Result.failed(ErrorKind.ALREADY_EXISTS, "a VM named " + spec.name() + " already exists in the cluster"));
            return this;
        }
        io.ferryvm.numa.Fit fit;
        if (m.host() != null && !m.host().isBlank()) {
            if (!directory.hostUp(m.host()) || !agents.containsKey(m.host())) {
                m.replyTo().tell(Result.failed(ErrorKind.NOT_FOUND, "no host '" + m.host() + "' is up in the cluster"));
                return this;
            }
            if (directory.host(m.host()).map(h -> h.status().draining()).orElse(false)) {
                m.replyTo().tell(Result.failed(ErrorKind.ILLEGAL, "host " + m.host() + " is draining for maintenance: it takes no new VM"));
                return this;
            }
            fit = placement.placeOn(spec, m.host());
        } else {
            fit = placement.placeNew(spec);
        }
        if (!(fit instanceof io.ferryvm.numa.Placement chosen)) {
            m.replyTo().tell(Result.failed(ErrorKind.RESOURCES, "no host can take VM " + spec.name() + ": " + fit));
            return this;
        }
        String host = chosen.host();
        pendingDefines.add(spec.id());
        String h = host;
        getContext().ask(AgentProtocol.Reply.class, agents.get(host), ASK_TIMEOUT,
                r -> new AgentProtocol.Define(spec, m.start(), r),
                (reply, failure) -> new AgentReplied(reply, failure, () -> pendingDefines.remove(spec.id()), m.replyTo(), h,
                        spec.id(), null, spec));
        return this;
    }

    private Behavior<Command> onAct(Act m) {
        Optional<Directory.VmEntry> e = directory.vm(m.vm());
        if (e.isEmpty()) {
            m.replyTo().tell(Result.failed(ErrorKind.NOT_FOUND, "no VM '" + m.vm() + "' in the cluster"));
            return this;
        }
        Directory.VmEntry v = e.get();
        if (v.placement() == OrchestratorProtocol.Placement.LOST) {
            m.replyTo().tell(Result.failed(ErrorKind.UNAVAILABLE, "VM " + v.spec().name() + " is lost with host " + v.host()
                    + " (down); it comes back when the host does" + (v.spec().ha() == VmSpec.HaPolicy.RESTART ? " or is restarted elsewhere" : "")));
            return this;
        }
        if (directory.isMigrating(v.spec().id())) {
            m.replyTo().tell(Result.failed(ErrorKind.ILLEGAL, "VM " + v.spec().name() + " is migrating: cancel the migration first"));
            return this;
        }
        ActorRef<AgentProtocol.Command> a = agents.get(v.host());
        if (a == null) {
            m.replyTo().tell(Result.failed(ErrorKind.UNAVAILABLE, "host " + v.host() + " of VM " + v.spec().name() + " is not reachable"));
            return this;
        }
        getContext().ask(AgentProtocol.Reply.class, a, ASK_TIMEOUT, r -> new AgentProtocol.Apply(v.spec().id(), m.op(), r),
                (reply, failure) -> new AgentReplied(reply, failure, () -> { }, m.replyTo(), v.host(), v.spec().id(), m.op(), null));
        return this;
    }

    private Behavior<Command> onAgentReplied(AgentReplied m) {
        m.then().run();
        if (m.reply() == null || !m.reply().ok()) {
            if (m.op() == null) {
                placement.release(m.vm()); // the define did not happen: its reservation goes
            }
            m.replyTo().tell(m.reply() == null
                    ? Result.failed(ErrorKind.UNAVAILABLE, "host " + m.host() + " did not answer: " + m.failure().getMessage())
                    : Result.failed(m.reply().error(), m.reply().message()));
            return this;
        }
        if (m.op() == Op.UNDEFINE) {
            directory.forget(m.vm());
            placement.release(m.vm());
            syncReplica();
            events.tell(Topic.publish(new ClusterEvent.VmRemoved(m.vm(), m.reply().vm().name())));
            m.replyTo().tell(new Result(true, ErrorKind.NONE, "", null));
            return this;
        }
        VmSpec spec = m.spec() != null ? m.spec() : directory.vm(m.vm()).map(Directory.VmEntry::spec).orElse(null);
        if (spec == null) {
            m.replyTo().tell(new Result(true, ErrorKind.NONE, "", null)); // it went meanwhile (a report raced the reply)
            return this;
        }
        directory.moved(spec, m.reply().vm(), m.host());
        syncReplica();
        OrchestratorProtocol.VmView view = Directory.view(directory.vm(m.vm()).orElseThrow());
        events.tell(Topic.publish(new ClusterEvent.VmChanged(view)));
        m.replyTo().tell(new Result(true, ErrorKind.NONE, "", view));
        return this;
    }

    private void askStatus(String host) {
        ActorRef<AgentProtocol.Command> a = agents.get(host);
        if (a != null) {
            getContext().ask(AgentProtocol.HostStatus.class, a, ASK_TIMEOUT, AgentProtocol.GetStatus::new,
                    (status, failure) -> new HostReport(status, a));
        }
    }

    private Behavior<Command> onCheck(CheckGuest m) {
        Optional<Directory.VmEntry> e = directory.vm(m.vm());
        ActorRef<AgentProtocol.Command> a = e.map(v -> agents.get(v.host())).orElse(null);
        if (a == null) {
            m.replyTo().tell(new AgentProtocol.GuestCheck(null, false, "no reachable VM '" + m.vm() + "'", 0, new long[0]));
            return this;
        }
        a.tell(new AgentProtocol.CheckGuest(e.get().spec().id(), m.replyTo()));
        return this;
    }
}
