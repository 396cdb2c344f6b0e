package io.ferryvm.numa;

import java.util.Arrays;
import java.util.function.IntPredicate;

/**
 * Hosts bucketed by the free capacity of their emptiest NUMA node on a 64 x 64 grid (free
 * pCPU-equivalents x free small-page memory, each the maximum over the host's nodes), so a placement
 * looks only at hosts whose nodes could hold one part of the request, in the policy's order, without
 * touching the others. (Indexing host totals instead let near-full hosts with fragmented nodes through,
 * and at 10,000 hosts the walk then fitted hundreds of them per placement.) Not thread-safe: the scheduler guards it with one lock held only for updates and
 * candidate collection, never while fitting.
 *
 * <p>Implementation notes. A host in cell (c, m) has free CPU in [c*u, (c+1)*u) and free memory in
 * [m*v, (m+1)*v) (the top row and column are open-ended). A request needing (cpu, mem) can only fit in
 * cells with c >= floor(cpu/u) and m >= floor(mem/v); those are walked by anti-diagonals d = (c - c0) +
 * (m - m0): ascending for pack (tightest normalised leftover first, best fit), descending for spread
 * (worst fit). The walk costs at most 4096 cell visits whatever the host count; each cell keeps its hosts
 * in an array with O(1) swap-remove. Units put the largest node registered at cell 48.
 * Units follow the largest node registered: a larger one rescales and re-inserts every host.
 */
final class CapacityIndex {
    static final int BUCKETS = 64;

    private double cpuUnit;
    private long memUnit;
    private final int[][] members = new int[BUCKETS * BUCKETS][];
    private final int[] sizes = new int[BUCKETS * BUCKETS];
    private int[] cellOf = new int[0];
    private int[] posOf = new int[0];

    CapacityIndex() {
        for (int i = 0; i < members.length; i++) {
            members[i] = new int[4];
        }
    }

    /** Sets the bucket sizes so a capacity this large maps to cell 48; returns true if they changed (re-insert every host). */
    boolean scaleFor(double cpus, long mem) {
        double cu = Math.max(0.25, cpus / 48.0);
        long mu = Math.max(16L << 20, mem / 48);
        if (cu <= cpuUnit && mu <= memUnit) {
            return false;
        }
        cpuUnit = Math.max(cpuUnit, cu);
        memUnit = Math.max(memUnit, mu);
        Arrays.fill(sizes, 0);
        Arrays.fill(cellOf, -1);
        return true;
    }

    int cpuBucket(double cpus) {
        return (int) Math.min(BUCKETS - 1, Math.max(0, Math.floor(cpus / cpuUnit + 1e-9)));
    }

    int memBucket(long mem) {
        return (int) Math.min(BUCKETS - 1, Math.max(0, mem / memUnit));
    }

    /** Puts (or moves) a host in the cell of its free capacity; capacity sets the units on first use. */
    void update(int slot, double freeCpus, long freeMem) {
        if (slot >= cellOf.length) {
            int n = Math.max(slot + 1, cellOf.length * 2);
            int old = cellOf.length;
            cellOf = Arrays.copyOf(cellOf, n);
            posOf = Arrays.copyOf(posOf, n);
            Arrays.fill(cellOf, old, n, -1);
        }
        int cell = cpuBucket(freeCpus) * BUCKETS + memBucket(freeMem);
        if (cellOf[slot] == cell) {
            return;
        }
        remove(slot);
        if (sizes[cell] == members[cell].length) {
            members[cell] = Arrays.copyOf(members[cell], sizes[cell] * 2);
        }
        posOf[slot] = sizes[cell];
        members[cell][sizes[cell]++] = slot;
        cellOf[slot] = cell;
    }

    void remove(int slot) {
        if (slot >= cellOf.length || cellOf[slot] < 0) {
            return;
        }
        int cell = cellOf[slot];
        int pos = posOf[slot];
        int last = members[cell][--sizes[cell]];
        members[cell][pos] = last;
        posOf[last] = pos;
        cellOf[slot] = -1;
    }

    /**
     * Up to {@code limit} hosts that could hold (cpu, mem) and pass {@code accept}, in pack or spread
     * order, written to out; returns how many. {@code rotate} shifts the start inside each cell, so
     * placers retrying after a lost race do not all herd onto the same host.
     */
    int candidates(double cpu, long mem, boolean pack, int limit, IntPredicate accept, int[] out, int rotate) {
        if (cpuUnit == 0) {
            return 0; // no host registered yet
        }
        int c0 = cpuBucket(cpu);
        int m0 = memBucket(mem);
        int maxD = (BUCKETS - 1 - c0) + (BUCKETS - 1 - m0);
        int n = 0;
        for (int step = 0; step <= maxD; step++) {
            int d = pack ? step : maxD - step;
            int cFrom = Math.max(c0, c0 + d - (BUCKETS - 1 - m0));
            int cTo = Math.min(BUCKETS - 1, c0 + d);
            for (int c = cFrom; c <= cTo; c++) {
                int m = m0 + d - (c - c0);
                int cell = c * BUCKETS + m;
                int size = sizes[cell];
                if (size == 0) {
                    continue;
                }
                int[] hosts = members[cell];
                int start = rotate == 0 ? 0 : Math.floorMod(rotate, size);
                for (int i = 0; i < size; i++) {
                    int slot = hosts[(start + i) % size];
                    if (accept.test(slot)) {
                        out[n++] = slot;
                        if (n == limit) {
                            return n;
                        }
                    }
                }
            }
        }
        return n;
    }
}
