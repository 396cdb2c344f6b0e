package io.ferryvm.numa;

import static io.ferryvm.numa.TestHosts.GIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.NumaSpec;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Eight placers race for a small cluster until it is full: every claim must either win or retry, never
 * double-book. Afterwards the final host states are rebuilt from their placements by an independent
 * checker and every accepted VM is found exactly once.
 */
class ConcurrentPlacersTest {
    @Test
    void racingPlacersNeverDoubleBook() throws Exception {
        ClusterScheduler s = new ClusterScheduler(new ClusterScheduler.Config(ClusterScheduler.Policy.PACK, 2.0, 2, 1000));
        for (int i = 0; i < 6; i++) {
            s.addHost(HostTopology.declared("h" + i, 2, 4, 2, 16 * GIB));
        }
        int threads = 8;
        CyclicBarrier start = new CyclicBarrier(threads);
        AtomicInteger accepted = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<List<UUID>>> results = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            final int seed = t;
            results.add(pool.submit(() -> {
                Random rnd = new Random(seed);
                List<UUID> mine = new ArrayList<>();
                start.await();
                for (int i = 0; i < 60; i++) {
                    NumaSpec.ThreadPolicy tp = NumaSpec.ThreadPolicy.values()[rnd.nextInt(3)];
                    NumaSpec.CpuPolicy cp = rnd.nextBoolean() ? NumaSpec.CpuPolicy.DEDICATED : NumaSpec.CpuPolicy.SHARED;
                    VmRequest r = new VmRequest(UUID.randomUUID(), 1 + rnd.nextInt(4), (1 + rnd.nextInt(4)) * GIB,
                            TestHosts.spec(0, NumaSpec.MemoryMode.STRICT, cp, tp), rnd.nextInt(4) == 0 ? "g" + rnd.nextInt(3) : "");
                    if (s.place(r) instanceof Placement p) {
                        mine.add(p.vm());
                        accepted.incrementAndGet();
                        if (rnd.nextInt(5) == 0) {
                            s.release(mine.remove(rnd.nextInt(mine.size())));
                            accepted.decrementAndGet();
                        }
                    }
                }
                return mine;
            }));
        }
        Set<UUID> expected = new HashSet<>();
        for (Future<List<UUID>> f : results) {
            expected.addAll(f.get());
        }
        pool.shutdown();
        Set<UUID> found = new HashSet<>();
        for (HostState h : s.snapshot().values()) {
            InvariantChecker.check(h);
            for (Placement p : h.placements()) {
                assertTrue(found.add(p.vm()), "VM " + p.vm() + " placed twice");
            }
        }
        assertEquals(expected, found);
        assertEquals(accepted.get(), found.size());
        assertTrue(found.size() > 20, "the race placed something: " + found.size());
    }
}
