package io.ferryvm.cluster.orchestrator;

import io.ferryvm.cluster.agent.AgentProtocol;
import io.ferryvm.cluster.api.ClusterEvent;
import io.ferryvm.cluster.api.MigrationOptions;
import io.ferryvm.cluster.api.MigrationProgress;
import io.ferryvm.cluster.api.MigrationSummary;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol.MigrationAccepted;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol.MigrationList;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol.MigrationView;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol.PlanAccepted;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol.PlannedMove;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.pubsub.Topic;

/**
 * The orchestrator's migrations: starting and cancelling them, following their progress, and executing
 * evacuation and rebalance plans with a bounded number of migrations at once. The source host agent
 * drives each migration's phases (with the target agent); this class decides and keeps the record.
 *
 * <p>Evacuation is durable: the host is first marked draining in its own state directory, so an
 * orchestrator that takes over after a failover sees the draining host and finishes the job.
 */
final class MigrationCoordinator {
    private static final org.slf4j.Logger REPORTS = org.slf4j.LoggerFactory.getLogger("ferry.migration");
    /** Plan moves (evacuation, rebalance) running at once, cluster-wide. */
    static final int MAX_CONCURRENT = 2;
    /** Migrations a host takes part in at once (as source or target), like vMotion's per-host limit. */
    static final int PER_HOST = 4;
    static final int MAX_HISTORY = 200;

    /** Local messages the orchestrator routes here. */
    interface Internal extends OrchestratorProtocol.Command, NoSerializationVerificationNeeded {}

    record Started(UUID migrationId, AgentProtocol.Reply reply, Throwable failure) implements Internal {}

    record DrainSet(String host, AgentProtocol.Reply reply, Throwable failure, ActorRef<PlanAccepted> replyTo) implements Internal {}

    /** A migration waiting for a slot (from a plan) or running. */
    private record Job(UUID migrationId, UUID vm, String vmName, String source, String target, MigrationOptions options,
            String origin) {}

    private final ActorContext<OrchestratorProtocol.Command> ctx;
    private final Directory directory;
    private final Map<String, ActorRef<AgentProtocol.Command>> agents;
    private final Placements placement;
    private final ActorRef<Topic.Command<ClusterEvent>> events;
    private final java.util.function.Consumer<String> refreshHost;
    private final Deque<Job> queue = new ArrayDeque<>();
    private final Map<UUID, Job> running = new LinkedHashMap<>();
    private final Map<UUID, MigrationView> views = new LinkedHashMap<>();

    MigrationCoordinator(ActorContext<OrchestratorProtocol.Command> ctx, Directory directory,
            Map<String, ActorRef<AgentProtocol.Command>> agents, Placements placement,
            ActorRef<Topic.Command<ClusterEvent>> events, java.util.function.Consumer<String> refreshHost) {
        this.ctx = ctx;
        this.refreshHost = refreshHost;
        this.directory = directory;
        this.agents = agents;
        this.placement = placement;
        this.events = events;
    }

    // ---- requests ----

    void start(OrchestratorProtocol.Migrate m) {
        Optional<Directory.VmEntry> vm = directory.vm(m.vm());
        if (vm.isEmpty()) {
            m.replyTo().tell(new MigrationAccepted(false, AgentProtocol.ErrorKind.NOT_FOUND, "no VM '" + m.vm() + "' in the cluster", null, ""));
            return;
        }
        Directory.VmEntry v = vm.get();
        String refusal = refusal(v, m.to());
        if (refusal != null) {
            m.replyTo().tell(new MigrationAccepted(false, AgentProtocol.ErrorKind.ILLEGAL, refusal, null, ""));
            return;
        }
        Job job = new Job(UUID.randomUUID(), v.spec().id(), v.spec().name(), v.host(),
                m.to() == null || m.to().isBlank() ? null : m.to(), m.options(), "request");
        if (busy(job.source()) || job.target() != null && busy(job.target())) {
            queue.add(job); // accepted: it starts when its hosts have a free slot
            directory.setMigrating(job.vm(), true);
            views.put(job.migrationId(), new MigrationView(job.migrationId(), job.vm(), job.vmName(), job.source(),
                    job.target() == null ? "" : job.target(), "queued", null, null));
            m.replyTo().tell(new MigrationAccepted(true, AgentProtocol.ErrorKind.NONE, "queued", job.migrationId(),
                    job.target() == null ? "" : job.target()));
            return;
        }
        String why = launch(job);
        if (why != null) {
            m.replyTo().tell(new MigrationAccepted(false, AgentProtocol.ErrorKind.RESOURCES, why, null, ""));
            return;
        }
        m.replyTo().tell(new MigrationAccepted(true, AgentProtocol.ErrorKind.NONE, "", job.migrationId(), running.get(job.migrationId()).target()));
    }

    /** Why a VM cannot be migrated to a host now, or null. */
    private String refusal(Directory.VmEntry v, String to) {
        if (v.placement() == OrchestratorProtocol.Placement.LOST) {
            return "VM " + v.spec().name() + " is lost with host " + v.host();
        }
        if (directory.isMigrating(v.spec().id()) || queued(v.spec().id())) {
            return "VM " + v.spec().name() + " is already migrating";
        }
        if (!v.info().status().isActive()) {
            return "VM " + v.spec().name() + " is " + v.info().status().name().toLowerCase()
                    + ": only a running or paused VM can be live-migrated";
        }
        if (to != null && !to.isBlank()) {
            if (to.equals(v.host())) {
                return "VM " + v.spec().name() + " already runs on " + to;
            }
            if (!directory.hostUp(to) || !agents.containsKey(to)) {
                return "no host '" + to + "' is up in the cluster";
            }
            if (directory.host(to).map(h -> h.status().draining()).orElse(false)) {
                return "host " + to + " is draining for maintenance";
            }
            String theirs = directory.host(to).map(h -> h.status().hypervisor()).orElse(io.ferryvm.core.HypervisorDriver.BUILTIN);
            String ours = directory.host(v.host()).map(h -> h.status().hypervisor()).orElse(io.ferryvm.core.HypervisorDriver.BUILTIN);
            if (!theirs.equals(ours)) {
                return "VM " + v.spec().name() + " runs on the " + ours + " hypervisor of " + v.host() + "; host " + to
                        + " runs " + theirs + " guests: a guest moves only between hosts of the same hypervisor";
            }
        }
        if (!agents.containsKey(v.host())) {
            return "host " + v.host() + " of VM " + v.spec().name() + " is not reachable";
        }
        return null;
    }

    /** Reserves the target (fitted for its topology) and starts the migration; returns why not, or null. */
    private String launch(Job planned) {
        Directory.VmEntry v = directory.vm(planned.vm()).orElse(null);
        if (v == null) {
            return "VM " + planned.vmName() + " is gone";
        }
        io.ferryvm.numa.Fit fit = placement.moveTo(v.spec(), planned.source(), planned.target());
        if (!(fit instanceof io.ferryvm.numa.Placement p)) {
            return "VM " + planned.vmName() + " does not fit on " + (planned.target() == null ? "any other host" : planned.target())
                    + ": " + fit;
        }
        Job job = new Job(planned.migrationId(), planned.vm(), planned.vmName(), planned.source(), p.host(), planned.options(),
                planned.origin());
        if (!agents.containsKey(job.target())) {
            placement.migrationFailed(v.spec(), job.source());
            return "host " + job.target() + " is not reachable";
        }
        running.put(job.migrationId(), job);
        directory.setMigrating(job.vm(), true);
        views.put(job.migrationId(), new MigrationView(job.migrationId(), job.vm(), job.vmName(), job.source(), job.target(),
                "starting", null, null));
        trimHistory();
        ActorRef<AgentProtocol.Command> source = agents.get(job.source());
        ActorRef<AgentProtocol.Command> target = agents.get(job.target());
        ctx.ask(AgentProtocol.Reply.class, source, Orchestrator.ASK_TIMEOUT,
                r -> new AgentProtocol.MigrateOut(job.migrationId(), job.vm(), job.target(), target, job.options(), r),
                (reply, failure) -> new Started(job.migrationId(), reply, failure));
        ctx.getLog().info("migration {} of {} from {} to {} ({})", job.migrationId(), job.vmName(), job.source(), job.target(),
                job.origin());
        return null;
    }

    void cancel(OrchestratorProtocol.CancelMigration m) {
        Job job = running.get(m.migrationId());
        if (job == null) {
            Optional<Job> waiting = queue.stream().filter(j -> j.migrationId().equals(m.migrationId())).findFirst();
            if (waiting.isEmpty()) {
                m.replyTo().tell(OrchestratorProtocol.Result.failed(AgentProtocol.ErrorKind.NOT_FOUND,
                        "no running migration " + m.migrationId()));
                return;
            }
            Job j = waiting.get();
            queue.remove(j);
            if (!isPlan(j)) {
                directory.setMigrating(j.vm(), false);
            }
            views.put(j.migrationId(), new MigrationView(j.migrationId(), j.vm(), j.vmName(), j.source(),
                    j.target() == null ? "" : j.target(), "cancelled", null, failedSummary(j, "cancelled before it started")));
            m.replyTo().tell(new OrchestratorProtocol.Result(true, AgentProtocol.ErrorKind.NONE, "", null));
            return;
        }
        ActorRef<AgentProtocol.Command> source = agents.get(job.source());
        if (source == null) {
            m.replyTo().tell(OrchestratorProtocol.Result.failed(AgentProtocol.ErrorKind.UNAVAILABLE, "source host " + job.source() + " is down"));
            return;
        }
        source.tell(new AgentProtocol.CancelOut(job.migrationId(), "cancelled by request"));
        m.replyTo().tell(new OrchestratorProtocol.Result(true, AgentProtocol.ErrorKind.NONE, "", null));
    }

    MigrationList list() {
        List<MigrationView> out = new ArrayList<>(views.values());
        java.util.Collections.reverse(out);
        return new MigrationList(out);
    }

    void onInternal(Internal m) {
        if (m instanceof Started s) {
            if (s.reply() == null || !s.reply().ok()) {
                String why = s.reply() == null ? "source did not answer: " + s.failure() : s.reply().message();
                Job job = running.get(s.migrationId());
                if (job != null) {
                    ended(failedSummary(job, why));
                }
            }
        } else if (m instanceof DrainSet d) {
            if (d.reply() == null || !d.reply().ok()) {
                d.replyTo().tell(new PlanAccepted(false, AgentProtocol.ErrorKind.UNAVAILABLE, "could not mark " + d.host() + " draining: "
                        + (d.reply() == null ? d.failure() : d.reply().message()), List.of()));
                return;
            }
            List<PlannedMove> moves = planDrain(d.host());
            d.replyTo().tell(new PlanAccepted(true, AgentProtocol.ErrorKind.NONE, moves.isEmpty() ? "nothing to move" : "", moves));
            pump();
        }
    }

    // ---- progress and outcome (from the source agent) ----

    void progress(MigrationProgress p) {
        MigrationView v = views.get(p.migrationId());
        if (v != null) {
            views.put(p.migrationId(), afterProgress(v, p));
        }
        events.tell(Topic.publish(new ClusterEvent.Migration(p, null)));
    }

    /**
     * A view after a progress event. An ended migration stays ended: the source's last events (ABORTED,
     * CONFIRMED) can arrive after the end was recorded (its host left and the end was written for it), and
     * used to turn the view back into "in progress" without a summary, for good.
     */
    static MigrationView afterProgress(MigrationView v, MigrationProgress p) {
        if (v.summary() != null) {
            return v;
        }
        return new MigrationView(v.migrationId(), v.vm(), v.vmName(), v.source(), v.target(), p.phase(), p, null);
    }

    void ended(MigrationSummary s) {
        Job job = running.remove(s.migrationId());
        if (job == null) {
            return; // a duplicate end (the agent retried after a failover): already recorded
        }
        directory.setMigrating(job.vm(), false);
        if (s.success()) {
            directory.vm(job.vm()).ifPresent(e -> directory.moved(e.spec(), e.info(), job.target()));
        } else {
            directory.vm(job.vm()).ifPresent(e -> placement.migrationFailed(e.spec(), job.source()));
        }
        MigrationView v = views.get(s.migrationId());
        views.put(s.migrationId(), new MigrationView(s.migrationId(), job.vm(), job.vmName(), job.source(), job.target(),
                s.success() ? "completed" : "failed", v == null ? null : v.progress(), s));
        // One greppable line per migration, on its own logger so it shows at the default WARN level too.
        REPORTS.info(s.line());
        events.tell(Topic.publish(new ClusterEvent.Migration(null, s)));
        refreshHost.accept(job.source()); // both ends' fresh status, not the MIGRATING one from before the end
        refreshHost.accept(job.target());
        directory.vm(job.vm()).ifPresent(e -> events.tell(Topic.publish(new ClusterEvent.VmChanged(Directory.view(e)))));
        pump();
    }

    /** A host left: migrations from or to it are over (the agents' journals decide the outcome). */
    void hostDown(String host) {
        for (Job j : List.copyOf(running.values())) {
            if (j.source().equals(host) || j.target().equals(host)) {
                ended(failedSummary(j, "host " + host + " left the cluster during the migration"));
            }
        }
        queue.removeIf(j -> j.source().equals(host) || j.target().equals(host));
    }

    private MigrationSummary failedSummary(Job job, String why) {
        return new MigrationSummary(job.migrationId(), job.vm(), job.vmName(), job.source(),
                job.target() == null ? "" : job.target(), false, why, 0, 0, 0,
                0, 0, 0, 0, 0, 0, Map.of(), 0, 0, 0, 0, 0);
    }

    // ---- plans ----

    void evacuate(OrchestratorProtocol.Evacuate m) {
        if (!directory.hostUp(m.host()) || !agents.containsKey(m.host())) {
            m.replyTo().tell(new PlanAccepted(false, AgentProtocol.ErrorKind.NOT_FOUND, "no host '" + m.host() + "' is up in the cluster", List.of()));
            return;
        }
        if (directory.upHosts().stream().filter(h -> !h.host().equals(m.host()) && !h.status().draining()).findAny().isEmpty()) {
            m.replyTo().tell(new PlanAccepted(false, AgentProtocol.ErrorKind.RESOURCES, "no other host to evacuate " + m.host() + " to", List.of()));
            return;
        }
        ctx.ask(AgentProtocol.Reply.class, agents.get(m.host()), Orchestrator.ASK_TIMEOUT,
                r -> new AgentProtocol.SetDraining(true, r), (reply, failure) -> new DrainSet(m.host(), reply, failure, m.replyTo()));
    }

    /** Queues the moves that empty a draining host (those not queued or running yet). */
    private List<PlannedMove> planDrain(String host) {
        List<PlannedMove> out = new ArrayList<>();
        for (Placements.Move mv : placement.evacuationPlan(host)) {
            Optional<Directory.VmEntry> e = directory.vm(mv.vm());
            if (e.isEmpty() || directory.isMigrating(mv.vm()) || queued(mv.vm()) || !e.get().info().status().isActive()) {
                continue;
            }
            queue.add(new Job(UUID.randomUUID(), mv.vm(), e.get().spec().name(), host, mv.to(), MigrationOptions.DEFAULT,
                    "evacuate " + host));
            out.add(new PlannedMove(mv.vm(), e.get().spec().name(), host, mv.to()));
        }
        return out;
    }

    void rebalance(OrchestratorProtocol.Rebalance m) {
        List<PlannedMove> out = new ArrayList<>();
        for (Placements.Move mv : placement.rebalancePlan(m.maxMigrations())) {
            Optional<Directory.VmEntry> e = directory.vm(mv.vm());
            if (e.isEmpty() || directory.isMigrating(mv.vm()) || queued(mv.vm())) {
                continue;
            }
            queue.add(new Job(UUID.randomUUID(), mv.vm(), e.get().spec().name(), e.get().host(), mv.to(),
                    MigrationOptions.DEFAULT, "rebalance"));
            out.add(new PlannedMove(mv.vm(), e.get().spec().name(), e.get().host(), mv.to()));
        }
        m.replyTo().tell(new PlanAccepted(true, AgentProtocol.ErrorKind.NONE, out.isEmpty() ? "the cluster is balanced" : "", out));
        pump();
    }

    /** After a report or a failover: draining hosts that still hold VMs get their moves queued. */
    void resumeDrains() {
        for (Directory.HostEntry h : directory.upHosts()) {
            if (h.status().draining() && !directory.vmsOn(h.host()).isEmpty()) {
                planDrain(h.host());
            }
        }
        pump();
    }

    private boolean queued(UUID vm) {
        return queue.stream().anyMatch(j -> j.vm().equals(vm)) || running.values().stream().anyMatch(j -> j.vm().equals(vm));
    }

    private boolean busy(String host) {
        return running.values().stream().filter(j -> j.source().equals(host) || j.target().equals(host)).count() >= PER_HOST;
    }

    private boolean isPlan(Job j) {
        return !j.origin().equals("request");
    }

    /**
     * Starts queued jobs whose hosts have a free slot (plan moves also within MAX_CONCURRENT); a job whose
     * premise changed (the VM moved, stopped or went) is dropped and reported.
     */
    private void pump() {
        java.util.Iterator<Job> it = queue.iterator();
        while (it.hasNext()) {
            Job j = it.next();
            if (isPlan(j) && running.values().stream().filter(this::isPlan).count() >= MAX_CONCURRENT) {
                continue;
            }
            if (busy(j.source()) || j.target() != null && busy(j.target())) {
                continue;
            }
            it.remove();
            if (!isPlan(j)) {
                directory.setMigrating(j.vm(), false); // queued requests held the VM; launch takes it again
            }
            Optional<Directory.VmEntry> e = directory.vm(j.vm());
            String why = e.isEmpty() || !e.get().host().equals(j.source()) ? "VM " + j.vmName() + " is no longer on " + j.source()
                    : refusal(e.get(), j.target());
            if (why == null) {
                why = launch(j);
            }
            if (why != null) {
                ctx.getLog().warn("queued migration of {} dropped: {}", j.vmName(), why);
                if (!isPlan(j)) {
                    views.put(j.migrationId(), new MigrationView(j.migrationId(), j.vm(), j.vmName(), j.source(),
                            j.target() == null ? "" : j.target(), "failed", null, failedSummary(j, why)));
                }
            }
        }
    }

    private void trimHistory() {
        if (views.size() > MAX_HISTORY) {
            views.keySet().stream().filter(id -> !running.containsKey(id)).sorted(Comparator.comparing(id -> 0))
                    .limit(views.size() - MAX_HISTORY).toList().forEach(views::remove);
        }
    }

    static Duration timeout() {
        return Orchestrator.ASK_TIMEOUT;
    }
}
