package io.ferryvm.numa;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.NumaSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Property tests: under random arrivals and departures of VMs with every policy, on random topologies,
 * no placement over-commits a dedicated pCPU, a node's memory or huge pages, the shared pool, or breaks
 * a thread policy or an anti-affinity group (checked from scratch by {@link InvariantChecker}), and a
 * rejected simple request really fits on no node. 300 seeded cases each, the seeds themselves drawn from a
 * fixed seed, so a failure names its seed and replays exactly.
 */
class PlacementPropertiesTest {
    private static final long MIB = 1L << 20;
    private final NumaFitter fitter = new NumaFitter();

    private static HostTopology topology(Random rnd) {
        int nodes = 1 + rnd.nextInt(4);
        int cores = 1 + rnd.nextInt(4);
        int threads = 1 + rnd.nextInt(2);
        long mem = (512 + rnd.nextInt(4) * 512L) * MIB;
        return rnd.nextInt(3) == 0 ? TestHosts.withHugePages(nodes, cores, threads, mem + 256 * MIB, 2048, 128)
                : HostTopology.declared("p", nodes, cores, threads, mem);
    }

    private static VmRequest request(Random rnd, boolean hugeAvailable) {
        int vcpus = 1 + rnd.nextInt(6);
        long mem = (1 + rnd.nextInt(12)) * 64 * MIB;
        NumaSpec.MemoryMode mm = NumaSpec.MemoryMode.values()[rnd.nextInt(3)];
        NumaSpec.CpuPolicy cp = rnd.nextBoolean() ? NumaSpec.CpuPolicy.DEDICATED : NumaSpec.CpuPolicy.SHARED;
        NumaSpec.ThreadPolicy tp = NumaSpec.ThreadPolicy.values()[rnd.nextInt(3)];
        int page = hugeAvailable && rnd.nextInt(4) == 0 ? 2048 : 4;
        int guestNodes = rnd.nextInt(3) == 0 ? 1 + rnd.nextInt(Math.min(3, vcpus)) : 0;
        List<NumaSpec.GuestNode> split = List.of();
        if (guestNodes == 2 && rnd.nextBoolean()) {
            int first = 1 + rnd.nextInt(vcpus - 1);
            List<Integer> a = new ArrayList<>();
            List<Integer> b = new ArrayList<>();
            for (int v = 0; v < vcpus; v++) {
                (v < first ? a : b).add(v);
            }
            long memA = 32 * MIB * (1 + rnd.nextInt((int) (mem / (32 * MIB)) - 1));
            split = List.of(new NumaSpec.GuestNode(a, memA), new NumaSpec.GuestNode(b, mem - memA));
        }
        int device = rnd.nextInt(8) == 0 ? rnd.nextInt(4) : -1;
        String group = rnd.nextInt(5) == 0 ? "g" + rnd.nextInt(2) : "";
        return new VmRequest(UUID.randomUUID(), vcpus, mem, new NumaSpec(guestNodes, split, mm, cp, tp, page, device), group);
    }

    static Stream<Arguments> cases() {
        SplittableRandom r = new SplittableRandom(20261130);
        return Stream.generate(() -> Arguments.of(r.nextLong(), 1 + r.nextInt(8))).limit(300);
    }

    static LongStream seeds() {
        return new SplittableRandom(4242).longs(300);
    }

    @ParameterizedTest(name = "seed {0}, overcommit {1}/2")
    @MethodSource("cases")
    void randomArrivalsAndDeparturesNeverOvercommit(long seed, int overcommitTimesTwo) {
        Random rnd = new Random(seed);
        HostTopology t = topology(rnd);
        boolean huge = t.hugePages(0, 2048) > 0;
        HostState s = HostState.empty(t, Math.max(1.0, overcommitTimesTwo / 2.0));
        List<UUID> live = new ArrayList<>();
        int placedCount = 0;
        for (int op = 0; op < 80; op++) {
            if (!live.isEmpty() && rnd.nextInt(3) == 0) {
                s = s.without(live.remove(rnd.nextInt(live.size())));
            } else {
                Fit f = fitter.fit(s, request(rnd, huge));
                if (f instanceof Placement p) {
                    s = s.with(p); // throws OVERCOMMIT if the fitter promised what is not free
                    live.add(p.vm());
                    placedCount++;
                }
            }
            InvariantChecker.check(s);
        }
        assertEquals(live.size(), s.placements().size());
        assertTrue(placedCount > 0 || live.isEmpty(), "seed " + seed + ": nothing ever fitted");
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void aRejectedSingleNodeRequestFitsOnNoNode(long seed) {
        Random rnd = new Random(seed);
        HostTopology t = HostTopology.declared("p", 1 + rnd.nextInt(4), 1 + rnd.nextInt(4), 1 + rnd.nextInt(2), 1024 * MIB);
        HostState s = HostState.empty(t, 1.0 + rnd.nextInt(3));
        for (int op = 0; op < 40; op++) {
            int vcpus = 1 + rnd.nextInt(4);
            long mem = (1 + rnd.nextInt(8)) * 64 * MIB;
            boolean dedicated = rnd.nextBoolean();
            VmRequest r = new VmRequest(UUID.randomUUID(), vcpus, mem, TestHosts.spec(1, NumaSpec.MemoryMode.STRICT,
                    dedicated ? NumaSpec.CpuPolicy.DEDICATED : NumaSpec.CpuPolicy.SHARED, NumaSpec.ThreadPolicy.PREFER), "");
            Fit f = fitter.fit(s, r);
            boolean somewhere = false;
            for (int n : t.nodes()) {
                int pool = s.sharedCpus(n).size();
                boolean memOk = s.freeMemory(n) >= mem;
                boolean cpuOk = dedicated
                        ? pool >= vcpus && s.sharedVcpus(n) <= Math.floor((pool - vcpus) * s.cpuOvercommit() + 1e-9)
                        : vcpus <= pool && s.sharedVcpus(n) + vcpus <= Math.floor(pool * s.cpuOvercommit() + 1e-9);
                somewhere |= memOk && cpuOk;
            }
            assertEquals(somewhere, f.fits(), "fitter and brute force disagree on " + r + ": " + f + " in " + s);
            if (f instanceof Placement p) {
                s = s.with(p);
            }
        }
    }
}
