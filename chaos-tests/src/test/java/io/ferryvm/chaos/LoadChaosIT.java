package io.ferryvm.chaos;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * Load under faults: 100 VMs on three nodes, ten live migrations at a time in a loop for a bounded time,
 * while a seeded fault schedule runs beside it (failpoint errors on random nodes, damaged streams, a
 * kill -9 and restart, a partition, a bandwidth cap). At the end the faults stop, the cluster settles and
 * every invariant is checked over all hundred VMs. Migrations completed, failed and rolled back, and
 * invariant violations (which must be 0) go to the summary.
 */
class LoadChaosIT {
    /** The numbers in the full run; a third of them in the default run (the CI budget on two cores). */
    static final int VMS = Chaos.SOAK ? 100 : 30;
    static final int CONCURRENT = Chaos.SOAK ? 10 : 4;

    @Test
    void tenConcurrentMigrationsOfAHundredVmsUnderAFaultSchedule() throws Exception {
        ChaosCluster cluster = ChaosCluster.shared();
        SplittableRandom rnd = Chaos.random("load");
        Duration length = Chaos.pick(Duration.ofSeconds(25), Duration.ofMinutes(10));
        List<ChaosCluster.TrackedVm> vms = new ArrayList<>();
        for (int i = 0; i < VMS; i++) {
            boolean ha = i % 5 == 0;
            vms.add(cluster.define(String.format("load-%03d", i), "8M", i % 2 == 0 ? ChaosCluster.pagewalk(1)
                    : ChaosCluster.random(1, 1000 + i), ha, cluster.nodes.get(i % cluster.nodes.size()).name));
        }
        Set<ChaosCluster.TrackedVm> busy = Collections.synchronizedSet(new HashSet<>());
        AtomicLong completed = new AtomicLong();
        AtomicLong rolledBack = new AtomicLong();
        AtomicLong refused = new AtomicLong();
        AtomicLong unknown = new AtomicLong();
        long deadline = System.nanoTime() + length.toNanos();
        ExecutorService pool = Executors.newFixedThreadPool(CONCURRENT + 1);
        List<Future<?>> work = new ArrayList<>();
        for (int w = 0; w < CONCURRENT; w++) {
            SplittableRandom mine = rnd.split();
            work.add(pool.submit(() -> {
                while (System.nanoTime() < deadline) {
                    ChaosCluster.TrackedVm vm = vms.get(mine.nextInt(vms.size()));
                    if (!busy.add(vm)) {
                        continue;
                    }
                    try {
                        migrateOnce(cluster, vm, mine, completed, rolledBack, refused, unknown);
                    } finally {
                        busy.remove(vm);
                    }
                }
            }));
        }
        work.add(pool.submit(() -> faults(cluster, rnd.split(), deadline)));
        for (Future<?> f : work) {
            f.get(length.toSeconds() + 600, TimeUnit.SECONDS);
        }
        pool.shutdown();

        // the faults are over: heal, bring back the dead, let the cluster settle, check everything
        cluster.network.heal();
        cluster.proxy.set(new FaultProxy.Pass());
        for (Node n : cluster.nodes) {
            if (n.alive()) {
                cluster.arm(n, "");
            }
        }
        cluster.restartTheDead();
        List<ChaosCluster.TrackedVm> sample = new ArrayList<>(vms);
        Collections.shuffle(sample, new java.util.Random(rnd.nextLong()));
        List<String> v = new Invariants(cluster).check("load", Chaos.SOAK ? vms : sample.subList(0, 10));
        System.out.printf("[chaos] load: %d migrations completed, %d failed and rolled back, %d refused, %d without a summary%n",
                completed.get(), rolledBack.get(), refused.get(), unknown.get());
        assertEquals(List.of(), v, Invariants.message("load", v, ""));

        cluster.clearStoppedMarks();
        for (ChaosCluster.TrackedVm vm : vms) {
            cluster.remove(vm);
        }
    }

    private static void migrateOnce(ChaosCluster cluster, ChaosCluster.TrackedVm vm, SplittableRandom rnd, AtomicLong completed,
            AtomicLong rolledBack, AtomicLong refused, AtomicLong unknown) {
        String id;
        try {
            Node to = cluster.nodes.get(rnd.nextInt(cluster.nodes.size()));
            Api.Response r = cluster.api().call("POST", "/api/migrations", "{\"vm\":\"" + vm.id + "\",\"to\":\"" + to.name
                    + "\",\"options\":" + Migrations.QUICK + "}", Duration.ofSeconds(20));
            if (!r.ok()) {
                refused.incrementAndGet(); // on its host already, stopped, lost with a dead host, migrating: refused cleanly
                LockSupport.parkNanos(50_000_000L); // a refused request costs the cluster little; do not spin on it
                return;
            }
            id = r.body().get("migrationId").asText();
        } catch (ChaosException e) {
            refused.incrementAndGet(); // the node asked was just killed or cut off
            return;
        }
        Optional<JsonNode> s = Migrations.awaitSummary(cluster, id, Duration.ofSeconds(90));
        if (s.isEmpty()) {
            unknown.incrementAndGet();
            Summary.RUN.migration("no summary (orchestrator or source restarted)");
        } else if (s.get().get("success").asBoolean()) {
            completed.incrementAndGet();
            Summary.RUN.migration("completed");
        } else {
            rolledBack.incrementAndGet();
            Summary.RUN.migration("failed, rolled back");
        }
    }

    /**
     * The fault schedule, drawn from the seed up front: one fault every 4 to 8 seconds, each a timed event
     * (a fault that lasts is two events, on and off) run in order on one scheduler thread; at most one kill
     * and one partition per started minute. Returns when the last event ran.
     */
    private static void faults(ChaosCluster cluster, SplittableRandom rnd, long deadline) {
        java.util.concurrent.ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        List<java.util.concurrent.ScheduledFuture<?>> events = new ArrayList<>();
        long at = 0;
        long end = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()) - 10_000;
        int kills = 0;
        int partitions = 0;
        while ((at += 4000 + rnd.nextInt(4000)) < end) {
            long minute = 1 + at / 60_000;
            Node n = cluster.nodes.get(rnd.nextInt(cluster.nodes.size()));
            int kind = rnd.nextInt(6);
            Runnable on;
            Runnable off = null;
            if (kind == 0 && kills < minute && Chaos.SOAK) { // the default run's kill -9 is OutsideFaultsIT's
                kills++;
                on = () -> {
                    cluster.holdersDying(n);
                    n.kill9();
                    Summary.RUN.fault("load: kill -9");
                    cluster.restart(n);
                };
            } else if (kind == 1 && partitions < minute && cluster.network.canPartition() && Chaos.SOAK) {
                partitions++;
                on = () -> {
                    Set<Integer> rest = new HashSet<>(Set.of(0, 1, 2));
                    rest.remove(n.index);
                    cluster.holdersDying(n);
                    cluster.network.partition(Set.of(n.index), rest, Network.Cut.DROP);
                    Summary.RUN.fault("load: partition");
                    try {
                        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).until(() -> !n.alive());
                    } catch (org.awaitility.core.ConditionTimeoutException e) {
                        // not a violation by itself (the invariants decide), but worth knowing: the isolated
                        // minority should have downed itself well within a minute
                        Summary.RUN.note("load: " + n + " isolated for 60 s without downing itself");
                    } finally {
                        // always: a partition left in place was followed by the next one, until every node
                        // was cut off from every other and no restart could ever join
                        cluster.network.heal();
                        cluster.restartTheDead();
                    }
                };
            } else if (kind == 2 && cluster.network.canCapBandwidth()) {
                on = () -> {
                    cluster.network.capBandwidth(n.index, 16000);
                    Summary.RUN.fault("load: bandwidth cap");
                };
                off = () -> cluster.network.capBandwidth(n.index, 0);
            } else if (kind == 3) {
                FaultProxy.Fault f = switch (rnd.nextInt(3)) {
                    case 0 -> new FaultProxy.Flip(200 + rnd.nextInt(1 << 20), 1 << rnd.nextInt(8));
                    case 1 -> new FaultProxy.Truncate(200 + rnd.nextInt(1 << 20));
                    default -> new FaultProxy.Reset(0);
                };
                on = () -> {
                    cluster.proxy.set(f);
                    Summary.RUN.fault("load: stream " + f.getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT));
                };
                off = () -> cluster.proxy.set(new FaultProxy.Pass());
            } else {
                String point = FailpointChaosIT.POINTS.get(rnd.nextInt(14)).name(); // the pre-copy ones
                on = () -> {
                    cluster.arm(n, point + "=error");
                    Summary.RUN.fault("load: failpoint error");
                };
                off = () -> cluster.arm(n, "");
            }
            events.add(timer.schedule(guarded(n, on), at, TimeUnit.MILLISECONDS));
            if (off != null) {
                events.add(timer.schedule(guarded(n, off), at + 3000, TimeUnit.MILLISECONDS));
            }
        }
        try {
            for (java.util.concurrent.ScheduledFuture<?> e : events) {
                e.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new ChaosException("fault schedule: " + e.getCause(), e.getCause());
        } finally {
            timer.shutdownNow();
        }
    }

    /** A fault event that fails (the node it aimed at is down just then) is reported, and the schedule goes on. */
    private static Runnable guarded(Node n, Runnable r) {
        return () -> {
            try {
                r.run();
            } catch (ChaosException | org.awaitility.core.ConditionTimeoutException e) {
                System.out.println("[chaos] load: a fault on " + n + " did not go as planned: " + e.getMessage());
            }
        };
    }
}
