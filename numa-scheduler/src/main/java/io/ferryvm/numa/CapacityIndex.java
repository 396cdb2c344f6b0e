package io.ferryvm.numa;

import java.util.Arrays;

/**
 * Every NUMA node of every host bucketed by its own free capacity on a 64 x 64 grid (free
 * pCPU-equivalents x free small-page memory), so a placement looks only at nodes that could hold one
 * part of the request, in the policy's order, and never touches the others. Not thread-safe: the
 * scheduler guards it with one lock held only for updates and candidate collection, never while fitting.
 *
 * <p>Implementation notes. A node sits in cell (b(cpu), b(mem)) where b(x) = floor(63 * sqrt(x / max))
 * and max is the largest node registered: square-root buckets are fine near empty (one pCPU or about
 * 0.25 GiB per bucket at the low end) and coarse near full, so the nearly full nodes a packing policy
 * leaves behind do not share a cell with the nodes a small request fits on. (Bucketing hosts by the
 * emptiest node of each dimension, as before, let hosts through whose free pCPUs and free memory sit on
 * different nodes; near full, a placement tested thousands of them.) b is monotone, so every node with
 * room for (cpu, mem) is in a cell with c >= b(cpu) and m >= b(mem); {@link #collect} walks such a
 * rectangle by anti-diagonals d = (c - c0) + (m - m0), ascending for pack (tightest first, best fit),
 * descending for spread (worst fit), at most 4096 cell visits whatever the host count. Each cell keeps its
 * entries (one per host node) in an array with O(1) swap-remove. A walk reports each host at most once
 * (epoch stamps), and a filter may skip one node or its whole host; it is told how many of the host's
 * nodes it counted so far, so a host that needs k nodes with room is accepted when the k-th is met.
 */
final class CapacityIndex {
    static final int BUCKETS = 64;
    /** Filter answers. */
    static final int ACCEPT = 0;
    static final int SKIP_NODE = 1;
    static final int SKIP_HOST = 2;
    /** The node counts towards its host (one more node with room), but the host is not accepted yet. */
    static final int COUNT = 3;

    /** Decides, per node entry met in a walk, whether its host is a candidate; {@code met} counts the host's nodes it answered COUNT for in this walk. */
    interface NodeFilter {
        int test(int slot, int node, int met);
    }

    private double cpuMax;
    private double memMax;
    private final int[][] members = new int[BUCKETS * BUCKETS][];
    private final int[] sizes = new int[BUCKETS * BUCKETS];
    // per host slot: first entry id and node count; per entry: its slot, cell and position in the cell
    private int[] base = new int[0];
    private int[] nodes = new int[0];
    private int[] slotOf = new int[0];
    private int[] cellOf = new int[0];
    private int[] posOf = new int[0];
    private int entries;
    // walk stamps per slot: reported in this collection, skipped in this region
    private int[] reported = new int[0];
    private int[] skipped = new int[0];
    private int[] metIn = new int[0];
    private int[] met = new int[0];
    private int collection;
    private int region;

    CapacityIndex() {
        for (int i = 0; i < members.length; i++) {
            members[i] = new int[4];
        }
    }

    /** Sets the scale so a node this large maps to the top bucket; returns true if it changed (re-insert every host). */
    boolean scaleFor(double cpus, long mem) {
        if (cpus <= cpuMax && mem <= memMax) {
            return false;
        }
        cpuMax = Math.max(cpuMax, Math.max(1, cpus));
        memMax = Math.max(memMax, Math.max(1 << 20, mem));
        Arrays.fill(sizes, 0);
        Arrays.fill(cellOf, 0, entries, -1);
        return true;
    }

    int cpuBucket(double cpus) {
        return bucket(cpus, cpuMax);
    }

    int memBucket(double mem) {
        return bucket(mem, memMax);
    }

    private static int bucket(double x, double max) {
        if (!(x > 0)) {
            return 0;
        }
        return (int) Math.min(BUCKETS - 1, Math.floor((BUCKETS - 1) * Math.sqrt(x / max) + 1e-9));
    }

    /** Puts (or moves) each node of a host in the cell of its free capacity. */
    void update(int slot, HostState st) {
        int count = st.topo.nodeCount();
        register(slot, count);
        for (int n = 0; n < count; n++) {
            int e = base[slot] + n;
            int cell = cpuBucket(st.freeCpus(n, 0)) * BUCKETS + memBucket(st.topo.nodeMemory[n] - st.memUsed[n]);
            if (cellOf[e] == cell) {
                continue;
            }
            removeEntry(e);
            if (sizes[cell] == members[cell].length) {
                members[cell] = Arrays.copyOf(members[cell], sizes[cell] * 2);
            }
            posOf[e] = sizes[cell];
            members[cell][sizes[cell]++] = e;
            cellOf[e] = cell;
        }
    }

    private void register(int slot, int count) {
        if (slot >= base.length) {
            int n = Math.max(slot + 1, base.length * 2);
            int old = base.length;
            base = Arrays.copyOf(base, n);
            nodes = Arrays.copyOf(nodes, n);
            reported = Arrays.copyOf(reported, n);
            skipped = Arrays.copyOf(skipped, n);
            metIn = Arrays.copyOf(metIn, n);
            met = Arrays.copyOf(met, n);
            Arrays.fill(base, old, n, -1);
        }
        if (base[slot] >= 0) {
            return;
        }
        if (entries + count > slotOf.length) {
            int n = Math.max(entries + count, slotOf.length * 2);
            int old = slotOf.length;
            slotOf = Arrays.copyOf(slotOf, n);
            cellOf = Arrays.copyOf(cellOf, n);
            posOf = Arrays.copyOf(posOf, n);
            Arrays.fill(cellOf, old, n, -1);
        }
        base[slot] = entries;
        nodes[slot] = count;
        for (int i = 0; i < count; i++) {
            slotOf[entries + i] = slot;
        }
        entries += count;
    }

    /** Takes every node of a host out of the index (a disabled host). */
    void remove(int slot) {
        if (slot >= base.length || base[slot] < 0) {
            return;
        }
        for (int n = 0; n < nodes[slot]; n++) {
            removeEntry(base[slot] + n);
        }
    }

    private void removeEntry(int e) {
        int cell = cellOf[e];
        if (cell < 0) {
            return;
        }
        int pos = posOf[e];
        int last = members[cell][--sizes[cell]];
        members[cell][pos] = last;
        posOf[last] = pos;
        cellOf[e] = -1;
    }

    /** Starts a collection: hosts reported from now on are reported once across its {@link #collect} calls. */
    void begin() {
        collection++;
    }

    /**
     * Walks the cells [b(cpuFrom), b(cpuTo)] x [b(memFrom), b(memTo)] in pack or spread order and appends
     * to out, from index n, hosts not yet reported in this collection whose node the filter accepts, until
     * limit, or until the filter has been asked about {@code visits} entries; returns the new count.
     * {@code rotate} shifts the start inside each cell, so placers retrying after a lost race do not all
     * herd onto the same host.
     */
    int collect(double cpuFrom, double memFrom, double cpuTo, double memTo, boolean pack, NodeFilter filter, int[] out, int n, int limit,
            int rotate, int visits) {
        if (cpuMax == 0 || n >= limit) {
            return n; // no host registered yet, or full
        }
        region++;
        int c0 = cpuBucket(cpuFrom);
        int m0 = memBucket(memFrom);
        int c1 = Math.max(c0, cpuBucket(cpuTo));
        int m1 = Math.max(m0, memBucket(memTo));
        int maxD = (c1 - c0) + (m1 - m0);
        for (int step = 0; step <= maxD; step++) {
            int d = pack ? step : maxD - step;
            int cFrom = Math.max(c0, c0 + d - (m1 - m0));
            int cTo = Math.min(c1, c0 + d);
            for (int c = cFrom; c <= cTo; c++) {
                int cell = c * BUCKETS + m0 + d - (c - c0);
                int size = sizes[cell];
                if (size == 0) {
                    continue;
                }
                int[] es = members[cell];
                int start = rotate == 0 ? 0 : Math.floorMod(rotate, size);
                for (int i = 0; i < size; i++) {
                    int j = start + i;
                    int e = es[j < size ? j : j - size];
                    int slot = slotOf[e];
                    if (reported[slot] == collection || skipped[slot] == region) {
                        continue;
                    }
                    if (metIn[slot] != region) {
                        metIn[slot] = region;
                        met[slot] = 0;
                    }
                    if (visits-- == 0) {
                        return n;
                    }
                    int verdict = filter.test(slot, e - base[slot], met[slot]);
                    if (verdict == ACCEPT) {
                        reported[slot] = collection;
                        out[n++] = slot;
                        if (n == limit) {
                            return n;
                        }
                    } else if (verdict == SKIP_HOST) {
                        skipped[slot] = region;
                    } else if (verdict == COUNT) {
                        met[slot]++;
                    }
                }
            }
        }
        return n;
    }
}
