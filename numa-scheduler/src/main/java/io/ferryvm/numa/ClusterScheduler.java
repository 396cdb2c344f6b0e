package io.ferryvm.numa;

import io.ferryvm.core.NumaSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Places VMs across many hosts: filters hosts that could hold the request, fits the best few with
 * {@link NumaFitter} and weighs them (fewest NUMA nodes, then closest nodes, then the policy: pack =
 * least leftover and least stranded, spread = most leftover), then claims the winner. Anti-affinity
 * groups never share a host. Thread-safe: any number of placers may call {@link #place} at once.
 *
 * <p>Implementation notes. Each host's {@link HostState} is immutable and held in an AtomicReference:
 * a placer fits against a snapshot and claims with {@code state.with(placement)} (which re-checks every
 * pCPU, byte and group) followed by compare-and-set, like Protean's optimistic allocation agents or
 * Omega's shared state. A lost race re-validates on the fresh state and retries, so nothing is ever
 * double-booked; the {@link CapacityIndex} is a hint updated after each claim, so a stale index can
 * cost a retry but never a wrong placement. Candidates: the first {@code candidates} hosts that fit, in
 * index order (Borg's "relaxed randomisation": enough feasible hosts, not all of them). VMs the
 * scheduler may split over host nodes (guest nodes 0) are first fitted on as few nodes as their size
 * needs on every candidate host, and only if no host can do that, on more; likewise PREFERRED memory
 * spills to a remote node only when no host has it all local. Stranding: a VM that fits one node is
 * offered first the nodes it would leave clean ({@link HostState#leavesClean}: a pCPU and the smallest
 * VM's memory to spare, or exhausted), tightest first for pack, and other nodes only when none is; the
 * fitter's cost then charges newly stranded capacity. A cost alone only ranks the candidates, and the
 * tightest candidates of a packing walk are, near full, nodes that one more small VM strands.
 */
public final class ClusterScheduler {
    public enum Policy { PACK, SPREAD }

    /**
     * Node entries the exact-fit walk may look at: it bounds the work of a placement when the walked
     * cells fill with nodes just past an exact fit (nodes with 3 GiB and a pCPU or two free, which
     * packing leaves behind by the thousand near full and which no small VM leaves clean).
     */
    static final int EXACT_VISITS = 1024;

    /**
     * Scheduler settings: policy, shared-CPU overcommit ratio applied on every host, how many feasible
     * hosts to compare per placement, how many lost races a placement may retry, and the smallest VM's
     * memory (below it a node's free pCPUs are stranded; placements avoid leaving nodes so).
     */
    public record Config(Policy policy, double cpuOvercommit, int candidates, int maxAttempts, long strandMemory) {
        public Config {
            Objects.requireNonNull(policy, "policy");
            if (candidates < 1 || maxAttempts < 1) {
                throw new NumaException(NumaException.Kind.INVALID, "candidates and maxAttempts must be >= 1");
            }
            if (strandMemory < 0) {
                throw new NumaException(NumaException.Kind.INVALID, "strandMemory must be >= 0");
            }
        }

        /** Settings with the fitter's default smallest VM (2 GiB) as the stranding threshold. */
        public Config(Policy policy, double cpuOvercommit, int candidates, int maxAttempts) {
            this(policy, cpuOvercommit, candidates, maxAttempts, NumaFitter.DEFAULT_STRAND_MEMORY);
        }

        public static Config of(Policy policy) {
            return new Config(policy, 4.0, 4, 64);
        }
    }

    /** Counters since creation: placements, rejections, lost claim races, and whole-placement retries. */
    public record Stats(long placed, long rejected, long conflicts, long retries) {}

    private static final class Slot {
        final int id;
        final String name;
        final AtomicReference<HostState> state;
        volatile boolean enabled = true;

        Slot(int id, HostState s) {
            this.id = id;
            this.name = s.host();
            this.state = new AtomicReference<>(s);
        }
    }

    private final Config config;
    private final NumaFitter fitter;
    private final ReentrantLock lock = new ReentrantLock();
    private final CapacityIndex index = new CapacityIndex();
    private volatile Slot[] slots = new Slot[0];
    // the smallest "largest node" of any host: bounds how many parts a VM may be split into
    private volatile double minNodeCpus = Double.MAX_VALUE;
    private volatile long minNodeMemory = Long.MAX_VALUE;
    private final Map<String, Slot> byName = new ConcurrentHashMap<>();
    private final Map<UUID, Slot> vmHost = new ConcurrentHashMap<>();
    private final LongAdder placed = new LongAdder();
    private final LongAdder rejected = new LongAdder();
    private final LongAdder conflicts = new LongAdder();
    private final LongAdder retries = new LongAdder();

    public ClusterScheduler(Config config) {
        this.config = Objects.requireNonNull(config, "config");
        this.fitter = new NumaFitter(config.strandMemory());
    }

    /** A scheduler over existing host states (a planner's private copy of the cluster). */
    static ClusterScheduler of(Config config, Collection<HostState> states) {
        ClusterScheduler s = new ClusterScheduler(config);
        for (HostState st : states) {
            s.addState(st);
        }
        return s;
    }

    public Config config() {
        return config;
    }

    /** Registers an empty host. */
    public void addHost(HostTopology topology) {
        addState(HostState.empty(topology, config.cpuOvercommit()));
    }

    void addState(HostState st) {
        lock.lock();
        try {
            if (byName.containsKey(st.host())) {
                throw new NumaException(NumaException.Kind.ALREADY_EXISTS, "host " + st.host() + " is already registered");
            }
            Slot s = new Slot(slots.length, st);
            Slot[] next = Arrays.copyOf(slots, slots.length + 1);
            next[s.id] = s;
            slots = next;
            byName.put(s.name, s);
            for (Placement p : st.placements()) {
                vmHost.put(p.vm(), s);
            }
            minNodeCpus = Math.min(minNodeCpus, st.topo.maxNodeGuestCpus);
            minNodeMemory = Math.min(minNodeMemory, st.topo.maxNodeMemory);
            if (index.scaleFor(st.topo.maxNodeGuestCpus, st.topo.maxNodeMemory)) {
                for (Slot other : next) {
                    reindex(other, other.state.get());
                }
            } else {
                reindex(s, st);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Takes a host out of (or back into) placement: maintenance, evacuation. Its VMs stay. */
    public void setEnabled(String host, boolean enabled) {
        Slot s = slot(host);
        lock.lock();
        try {
            s.enabled = enabled;
            if (enabled) {
                reindex(s, s.state.get());
            } else {
                index.remove(s.id);
            }
        } finally {
            lock.unlock();
        }
    }

    public boolean isEnabled(String host) {
        return slot(host).enabled;
    }

    /** Places a VM on the best host and claims it there. */
    public Fit place(VmRequest r) {
        if (vmHost.containsKey(r.id())) {
            throw new NumaException(NumaException.Kind.ALREADY_EXISTS, "VM " + r.id() + " is already placed on " + vmHost.get(r.id()).name);
        }
        Fit f = placeExcept(r, null);
        if (f instanceof Placement p && vmHost.putIfAbsent(r.id(), slot(p.host())) != null) {
            unclaim(slot(p.host()), r.id());
            throw new NumaException(NumaException.Kind.ALREADY_EXISTS, "VM " + r.id() + " was placed concurrently by another caller");
        }
        return f;
    }

    /**
     * Places a VM on the named host (enabled or not: a VM already running there is being recorded, as an
     * orchestrator rebuilding its view from host reports does), fitted for that host's topology.
     */
    public Fit placeOn(VmRequest r, String host) {
        if (vmHost.containsKey(r.id())) {
            throw new NumaException(NumaException.Kind.ALREADY_EXISTS, "VM " + r.id() + " is already placed on " + vmHost.get(r.id()).name);
        }
        Slot s = slot(host);
        for (int attempt = 0; attempt < config.maxAttempts(); attempt++) {
            Fit f = fitter.fit(s.state.get(), r);
            if (!(f instanceof Placement p)) {
                rejected.increment();
                return f;
            }
            if (claim(s, p)) {
                if (vmHost.putIfAbsent(r.id(), s) != null) {
                    unclaim(s, r.id());
                    throw new NumaException(NumaException.Kind.ALREADY_EXISTS, "VM " + r.id() + " was placed concurrently by another caller");
                }
                placed.increment();
                return p;
            }
            retries.increment();
        }
        rejected.increment();
        return new Rejection(Constraint.CONFLICT, "VM " + r.id() + ": lost " + config.maxAttempts() + " claim races on " + host);
    }

    /** Finds, claims and returns a placement on any enabled host but excluded; the VM directory is the caller's. */
    private Fit placeExcept(VmRequest r, Slot excluded) {
        boolean relaxable = r.numa().guestNodes() == 0 && r.numa().nodes().isEmpty() || r.numa().memory() == NumaSpec.MemoryMode.PREFERRED;
        for (int attempt = 0; attempt < config.maxAttempts(); attempt++) {
            Search search = new Search(r, excluded, attempt == 0 ? 0 : ThreadLocalRandom.current().nextInt(1, Integer.MAX_VALUE));
            Choice c = search.choose(0);
            if (c == null && relaxable) {
                c = search.choose(Integer.MAX_VALUE);
            }
            if (c == null) {
                rejected.increment();
                return search.rejection();
            }
            if (claim(c.slot, c.placement)) {
                placed.increment();
                return c.placement;
            }
            retries.increment();
        }
        rejected.increment();
        return new Rejection(Constraint.CONFLICT, "VM " + r.id() + ": lost " + config.maxAttempts() + " claim races in a row");
    }

    /** Validate-and-swap on the host's current state; false if the placement no longer fits there. */
    private boolean claim(Slot s, Placement p) {
        while (true) {
            HostState cur = s.state.get();
            HostState next;
            try {
                next = cur.with(p);
            } catch (NumaException e) {
                if (e.kind() != NumaException.Kind.OVERCOMMIT) {
                    throw e;
                }
                conflicts.increment();
                return false;
            }
            if (s.state.compareAndSet(cur, next)) {
                reindexLocked(s);
                return true;
            }
            conflicts.increment();
        }
    }

    private void unclaim(Slot s, UUID vm) {
        HostState cur;
        do {
            cur = s.state.get();
        } while (!s.state.compareAndSet(cur, cur.without(vm)));
        reindexLocked(s);
    }

    /** Releases a VM wherever it is; false if the scheduler does not know it. */
    public boolean release(UUID vm) {
        Slot s = vmHost.remove(vm);
        if (s == null) {
            return false;
        }
        unclaim(s, vm);
        return true;
    }

    /**
     * Re-places a VM on another host (or any host but its own when target is null), fitted afresh for
     * that host's topology, and releases the old placement. The VM keeps its old place if none fits.
     */
    public Fit move(UUID vm, String target) {
        Slot from = vmHost.get(vm);
        if (from == null) {
            throw new NumaException(NumaException.Kind.NOT_FOUND, "VM " + vm + " is not placed");
        }
        VmRequest r = from.state.get().placement(vm).orElseThrow().request();
        Fit f;
        if (target == null) {
            f = placeExcept(r, from);
        } else {
            Slot to = slot(target);
            if (to == from) {
                throw new NumaException(NumaException.Kind.INVALID, "VM " + vm + " is already on " + target);
            }
            f = fitter.fit(to.state.get(), r);
            if (f instanceof Placement p && !claim(to, p)) {
                f = new Rejection(Constraint.CONFLICT, "host " + target + " changed while VM " + vm + " was being moved");
            }
        }
        if (f instanceof Placement p) {
            Slot to = slot(p.host());
            vmHost.put(vm, to);
            unclaim(from, vm);
        }
        return f;
    }

    /** Planners only: puts a host back to an earlier state of their private copy (undoing a trial move). */
    void restore(String host, HostState st) {
        Slot s = slot(host);
        HostState old = s.state.getAndSet(st);
        for (Placement p : old.placements()) {
            if (!st.holds(p.vm())) {
                vmHost.remove(p.vm(), s);
            }
        }
        for (Placement p : st.placements()) {
            vmHost.put(p.vm(), s);
        }
        reindexLocked(s);
    }

    public Optional<String> hostOf(UUID vm) {
        Slot s = vmHost.get(vm);
        return s == null ? Optional.empty() : Optional.of(s.name);
    }

    public Optional<Placement> placement(UUID vm) {
        Slot s = vmHost.get(vm);
        return s == null ? Optional.empty() : s.state.get().placement(vm);
    }

    public HostState state(String host) {
        return slot(host).state.get();
    }

    /** Every host's current state, host by host (each consistent in itself). */
    public Map<String, HostState> snapshot() {
        Map<String, HostState> out = new LinkedHashMap<>();
        for (Slot s : slots) {
            out.put(s.name, s.state.get());
        }
        return out;
    }

    public List<String> hosts() {
        List<String> out = new ArrayList<>();
        for (Slot s : slots) {
            out.add(s.name);
        }
        return out;
    }

    public Stats stats() {
        return new Stats(placed.sum(), rejected.sum(), conflicts.sum(), retries.sum());
    }

    private Slot slot(String host) {
        Slot s = byName.get(host);
        if (s == null) {
            throw new NumaException(NumaException.Kind.NOT_FOUND, "no host " + host);
        }
        return s;
    }

    private void reindexLocked(Slot s) {
        lock.lock();
        try {
            reindex(s, s.state.get());
        } finally {
            lock.unlock();
        }
    }

    private void reindex(Slot s, HostState st) {
        if (s.enabled) {
            index.update(s.id, st);
        }
    }

    private record Choice(Slot slot, Placement placement, double score) {}

    /** One placement's walk over the candidates. */
    private final class Search {
        final VmRequest r;
        final Slot excluded;
        final int rotate;
        final double cpuNeed;
        final long memNeed;
        final boolean auto;
        final boolean isolate;
        int extra;
        boolean clean;
        final HostTopology[] shapes = new HostTopology[8];
        final int[] shapeNodes = new int[8];
        int shapeCount;
        double parts;
        Rejection closest;
        int closestRank = -1;
        int groupBlocked;
        int examined;

        Search(VmRequest r, Slot excluded, int rotate) {
            this.r = r;
            this.excluded = excluded;
            this.rotate = rotate;
            this.cpuNeed = r.dedicated() ? r.vcpus() : r.vcpus() / config.cpuOvercommit();
            this.memNeed = r.numa().pageSizeKiB() == 4 ? r.memoryBytes() : 0;
            this.auto = r.numa().guestNodes() == 0 && r.numa().nodes().isEmpty();
            this.isolate = r.dedicated() && r.numa().threads() == NumaSpec.ThreadPolicy.ISOLATE;
        }

        /**
         * The candidate filter, per node entry of the index. In the local pass of an auto split each node is
         * checked for one part of the split, and in the clean regions must also be left clean (see
         * {@link HostState#leavesClean}); a host is accepted once it has as many such nodes as parts.
         */
        int accept(int id, int node, int met) {
            Slot s = slots[id];
            if (s == excluded || !s.enabled) {
                return CapacityIndex.SKIP_HOST;
            }
            HostState st = s.state.get();
            if (st.freeCpus() + 1e-9 < cpuNeed || st.freeMemory() < memNeed) {
                return CapacityIndex.SKIP_HOST;
            }
            if (st.hasGroup(r.group())) {
                groupBlocked++;
                return CapacityIndex.SKIP_HOST;
            }
            if (extra != 0 || !auto || memNeed == 0) {
                return CapacityIndex.ACCEPT;
            }
            // local pass, an even split over the fewest nodes: k nodes must each have room for one part (cheap, before any fit)
            int k = minNodes(st.topo);
            if (k < 1) {
                return CapacityIndex.SKIP_HOST;
            }
            long cellMem = ((memNeed >> 12) + k - 1) / k << 12;
            double cellCpu = cellCpus(k) * (isolate ? st.topo.maxThreadsPerCore : 1);
            // this node must have room for one part (and, in the clean regions, be left clean); a k-node split is
            // accepted when the k-th such node of its host is met: the walked cells hold every node with room
            double fc = st.freeCpus(node, 0);
            long fm = st.topo.nodeMemory[node] - st.memUsed[node];
            if (fc + 1e-9 < cellCpu || fm < cellMem || clean && !HostState.leavesClean(fc, fm, cellCpu, cellMem, config.strandMemory())) {
                return CapacityIndex.SKIP_NODE;
            }
            if (met + 1 < k) {
                return CapacityIndex.COUNT;
            }
            return CapacityIndex.ACCEPT;
        }

        /**
         * {@link NumaFitter#minNodes} for this request, remembered per host shape (nodes, threads per core,
         * largest node): a walk meets thousands of hosts of a few shapes. Huge-page requests never get here.
         */
        int minNodes(HostTopology t) {
            for (int i = 0; i < shapeCount; i++) {
                HostTopology u = shapes[i];
                if (u == t || u.nodeCount() == t.nodeCount() && u.maxThreadsPerCore == t.maxThreadsPerCore
                        && u.maxNodeGuestCpus == t.maxNodeGuestCpus && u.maxNodeMemory == t.maxNodeMemory) {
                    return shapeNodes[i];
                }
            }
            int k = NumaFitter.minNodes(t, r);
            if (shapeCount < shapes.length) {
                shapes[shapeCount] = t;
                shapeNodes[shapeCount++] = k;
            }
            return k;
        }

        /** pCPU-equivalents of one part of a k-node even split. */
        double cellCpus(int k) {
            return r.dedicated() ? (r.vcpus() + k - 1) / k : Math.ceil((double) r.vcpus() / k) / config.cpuOvercommit();
        }

        /**
         * Collects up to limit candidate hosts. The local pass of an auto split first walks the nodes it
         * would leave clean ({@link HostState#leavesClean}): for pack, the exact fits (up to half a pCPU and
         * less than two smallest VMs' memory over the request: a bound at one pCPU would take in, bucket
         * edges being fractional, the nodes with a pCPU to spare), then nodes that keep a pCPU and the
         * smallest VM's memory; then
         * every node with room, so a VM that fits only by stranding still goes somewhere. Other passes walk
         * every node with room for one part.
         */
        int collect(int[] buf, int limit) {
            boolean pack = config.policy() == Policy.PACK;
            double cpu = cpuNeed / parts;
            double mem = memNeed / parts;
            int n = 0;
            lock.lock();
            try {
                groupBlocked = 0;
                index.begin();
                if (extra == 0 && auto && memNeed > 0 && parts == 1) {
                    clean = true;
                    double strand = config.strandMemory();
                    if (pack) {
                        n = index.collect(cpu, mem, cpu + 0.5, mem + 2 * strand - 1, true, this::accept, buf, n, limit, rotate, EXACT_VISITS);
                    }
                    n = index.collect(cpu + 1, mem + strand, Double.MAX_VALUE, Double.MAX_VALUE, pack, this::accept, buf, n, limit, rotate, Integer.MAX_VALUE);
                    clean = false;
                }
                return index.collect(cpu, mem, Double.MAX_VALUE, Double.MAX_VALUE, pack, this::accept, buf, n, limit, rotate, Integer.MAX_VALUE);
            } finally {
                clean = false;
                lock.unlock();
            }
        }

        Choice choose(int extraNodes) {
            extra = extraNodes;
            // every part of a split needs one node with room for it: the walk starts at the smallest part any host would use
            parts = extraNodes == 0 ? Math.max(1, Math.max(Math.ceil(cpuNeed / Math.max(1, minNodeCpus)),
                    Math.ceil((double) memNeed / Math.max(1, minNodeMemory)))) : 64;
            if (!auto) {
                parts = 64; // a fixed guest layout may have uneven parts: walk from (almost) empty nodes up
            }
            Slot[] all = slots;
            int limit = Math.max(8, 2 * config.candidates()); // node-level filtering: most candidates fit
            int[] buf = new int[limit];
            Set<Integer> seen = new HashSet<>();
            Choice best = null;
            int feasible = 0;
            while (true) {
                if (buf.length < limit) {
                    buf = new int[limit];
                }
                int n = collect(buf, limit);
                for (int i = 0; i < n && feasible < config.candidates(); i++) {
                    if (!seen.add(buf[i])) {
                        continue;
                    }
                    Slot s = all[buf[i]];
                    HostState st = s.state.get();
                    examined++;
                    Fit f = fitter.fit(st, r, extraNodes);
                    if (f instanceof Placement p) {
                        feasible++;
                        double score = p.cost() + 2 * hostTerm(st);
                        if (best == null || score < best.score) {
                            best = new Choice(s, p, score);
                        }
                    } else {
                        note((Rejection) f);
                    }
                }
                if (feasible >= config.candidates() || n < limit) {
                    return best;
                }
                if (best != null) {
                    return best;
                }
                limit *= 4;
            }
        }

        /** Keeps the rejection that got furthest through the per-host checks. */
        void note(Rejection rej) {
            int rank = rej.constraint().ordinal();
            if (rank > closestRank) {
                closest = rej;
                closestRank = rank;
            }
        }

        double hostTerm(HostState st) {
            double fc = (st.freeCpus() - cpuNeed) / Math.max(1, st.topo.guestCpuCount());
            double fm = (double) (st.freeMemory() - memNeed) / Math.max(1, st.topo.totalMemory());
            double imbalance = Math.abs(fc - fm);
            return config.policy() == Policy.PACK ? 0.5 * (fc + fm) + NumaFitter.IMBALANCE * imbalance : -0.5 * (fc + fm) + NumaFitter.IMBALANCE * imbalance;
        }

        Rejection rejection() {
            if (closest != null) {
                return closest;
            }
            if (slots.length == 0 || Arrays.stream(slots).noneMatch(s -> s.enabled && s != excluded)) {
                return new Rejection(Constraint.NO_HOSTS, "no enabled host to place VM " + r.id() + " on");
            }
            if (groupBlocked > 0) {
                return new Rejection(Constraint.ANTI_AFFINITY, "every host with room for VM " + r.id() + " already holds a member of group '"
                        + r.group() + "'");
            }
            boolean memSomewhere = false;
            for (Slot s : slots) {
                memSomewhere |= s.enabled && s != excluded && s.state.get().freeMemory() >= memNeed;
            }
            if (!memSomewhere || memNeed == 0 && r.numa().pageSizeKiB() != 4) {
                return new Rejection(r.numa().pageSizeKiB() != 4 ? Constraint.HUGE_PAGES : Constraint.MEMORY,
                        "no host has " + (r.memoryBytes() >> 20) + " MiB free for VM " + r.id());
            }
            return new Rejection(r.numa().cpus() == NumaSpec.CpuPolicy.DEDICATED ? Constraint.DEDICATED_CPUS : Constraint.SHARED_CPUS,
                    "no host has " + String.format("%.2f", cpuNeed) + " free pCPUs and " + (r.memoryBytes() >> 20) + " MiB for VM " + r.id());
        }
    }
}
