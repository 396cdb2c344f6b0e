package io.ferryvm.bench.numa;

import io.ferryvm.numa.ClusterScheduler;
import io.ferryvm.numa.Fit;
import io.ferryvm.numa.HostState;
import io.ferryvm.numa.HostTopology;
import io.ferryvm.numa.NumaFitter;
import io.ferryvm.numa.Placement;
import io.ferryvm.numa.VmRequest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.UUID;

/** Ferry and the baselines of the research note, side by side on identical inputs. */
final class Policies {
    static final double OVERCOMMIT = 1.0; // Azure-like: the size mix comes from a cloud that does not overcommit cores

    private Policies() {}

    static List<String> online() {
        return List.of("ferry", "random", "nova", "best-fit", "worst-fit");
    }

    static Policy create(String name, List<HostTopology> hosts, long seed) {
        switch (name) {
            case "ferry":
                return new Ferry(hosts);
            case "random":
                return new RandomFit(hosts, seed);
            case "nova":
                return new Sorted("nova", hosts, true, s -> -(s.freeMemory() >> 20));
            case "best-fit":
            case "bfd":
                return new Sorted(name, hosts, false, s -> (long) (1e6 * leftover(s)));
            case "worst-fit":
                return new Sorted(name, hosts, false, s -> -(long) (1e6 * leftover(s)));
            default:
                throw new IllegalArgumentException("unknown policy " + name);
        }
    }

    /** Normalised free capacity: free pCPU share + free memory share. */
    static double leftover(HostState s) {
        return s.freeCpus() / s.topology().guestCpuCount() + (double) s.freeMemory() / s.topology().totalMemory();
    }

    static final class Ferry implements Policy {
        final ClusterScheduler scheduler = new ClusterScheduler(new ClusterScheduler.Config(ClusterScheduler.Policy.PACK, OVERCOMMIT, 4, 64));

        Ferry(List<HostTopology> hosts) {
            hosts.forEach(scheduler::addHost);
        }

        @Override
        public String name() {
            return "ferry";
        }

        @Override
        public Placement place(VmRequest r) {
            Fit f = scheduler.place(r);
            return f instanceof Placement p ? p : null;
        }

        @Override
        public void release(UUID vm) {
            scheduler.release(vm);
        }

        @Override
        public Collection<HostState> states() {
            return scheduler.snapshot().values();
        }

        @Override
        public long conflicts() {
            return scheduler.stats().conflicts();
        }
    }

    /** Shared plumbing of the baselines: plain arrays, single-threaded (callers serialise). */
    abstract static class Baseline implements Policy {
        final HostState[] hosts;
        final Map<UUID, Integer> where = new HashMap<>();
        final NumaFitter fitter = new NumaFitter();

        Baseline(List<HostTopology> topologies) {
            hosts = topologies.stream().map(t -> HostState.empty(t, OVERCOMMIT)).toArray(HostState[]::new);
        }

        boolean roughlyFits(HostState s, VmRequest r) {
            double cpu = r.dedicated() ? r.vcpus() : r.vcpus() / OVERCOMMIT;
            return s.freeCpus() + 1e-9 >= cpu && s.freeMemory() >= r.memoryBytes();
        }

        Placement fitOn(HostState s, VmRequest r) {
            Fit f = fitter.fit(s, r);
            return f instanceof Placement p ? p : null;
        }

        void commit(int i, Placement p) {
            hosts[i] = hosts[i].with(p);
            where.put(p.vm(), i);
        }

        @Override
        public void release(UUID vm) {
            Integer i = where.remove(vm);
            if (i != null) {
                hosts[i] = hosts[i].without(vm);
                moved(i);
            }
        }

        void moved(int i) {}

        @Override
        public Collection<HostState> states() {
            return Arrays.asList(hosts);
        }
    }

    /** Random fit: hosts in a random order from a random start, first feasible (Ferry's fitter inside). */
    static final class RandomFit extends Baseline {
        final SplittableRandom rnd;

        RandomFit(List<HostTopology> t, long seed) {
            super(t);
            rnd = new SplittableRandom(seed ^ 0xabcdef);
        }

        @Override
        public String name() {
            return "random";
        }

        @Override
        public Placement place(VmRequest r) {
            int n = hosts.length;
            for (int probe = 0; probe < 32; probe++) {
                int i = rnd.nextInt(n);
                Placement p = tryHost(i, r);
                if (p != null) {
                    return p;
                }
            }
            int start = rnd.nextInt(n); // few random probes failed: scan every host once from a random start
            for (int k = 0; k < n; k++) {
                Placement p = tryHost((start + k) % n, r);
                if (p != null) {
                    return p;
                }
            }
            return null;
        }

        private Placement tryHost(int i, VmRequest r) {
            if (!roughlyFits(hosts[i], r)) {
                return null;
            }
            Placement p = fitOn(hosts[i], r);
            if (p != null) {
                commit(i, p);
            }
            return p;
        }
    }

    /** Hosts in the order of a key (ascending), first feasible: Nova (RAM weigher, spread), best fit, worst fit. */
    static final class Sorted extends Baseline {
        interface Key {
            long of(HostState s);
        }

        final String name;
        final boolean nova;
        final Key key;
        final TreeSet<long[]> order = new TreeSet<>((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
        final long[][] keys;
        final NovaFitter novaFitter = new NovaFitter();

        Sorted(String name, List<HostTopology> t, boolean nova, Key key) {
            super(t);
            this.name = name;
            this.nova = nova;
            this.key = key;
            keys = new long[hosts.length][];
            for (int i = 0; i < hosts.length; i++) {
                moved(i);
            }
        }

        @Override
        void moved(int i) {
            if (keys[i] != null) {
                order.remove(keys[i]);
            }
            keys[i] = new long[] {key.of(hosts[i]), i};
            order.add(keys[i]);
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public Placement place(VmRequest r) {
            for (long[] k : order) {
                int i = (int) k[1];
                if (!roughlyFits(hosts[i], r)) {
                    continue;
                }
                Placement p = nova ? novaFitter.fit(hosts[i], r) : fitOn(hosts[i], r);
                if (p != null) {
                    commit(i, p);
                    moved(i);
                    return p;
                }
            }
            return null;
        }
    }

    /** Offline best-fit-decreasing order: largest dominant share first. */
    static List<VmRequest> decreasing(List<VmRequest> in, HostTopology shape) {
        List<VmRequest> out = new ArrayList<>(in);
        out.sort((a, b) -> Double.compare(share(b, shape), share(a, shape)));
        return out;
    }

    static double share(VmRequest r, HostTopology t) {
        double cpu = (r.dedicated() ? r.vcpus() : r.vcpus() / OVERCOMMIT) / t.guestCpuCount();
        return Math.max(cpu, (double) r.memoryBytes() / t.totalMemory());
    }
}
