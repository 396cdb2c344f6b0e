package io.ferryvm.bench.numa;

import io.ferryvm.core.NumaSpec;
import io.ferryvm.numa.HostTopology;
import io.ferryvm.numa.VmRequest;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;

/**
 * Seeded synthetic hosts and VM requests. Hosts: 2 sockets x 32 cores x 2 threads, 2 x 256 GiB, split
 * into 2 (50%), 4 (30%) or 8 (20%) NUMA nodes, 1 CPU and 1 GiB per node reserved for the host. VMs after
 * the Azure 2019 public dataset: vCPUs 1 (18%), 2 (40%), 4 (23%), 8 (12%), 16 (6%), 32 (0.7%), 64
 * (0.3%); 2, 4 or 8 GiB per vCPU (at most 4 above 16 vCPUs); 40% dedicated (of those up to 16 vCPUs, 10% isolate and
 * 10% require); memory strict 70%, preferred 25%, interleave 5%; the scheduler picks guest nodes. Lifetimes:
 * a mixture of exponentials (63% mean 0.25, 25% mean 2, 12% mean 8 time units), the shape of Azure's
 * "63% < 1 h, 88% < 1 day" with a long tail.
 */
final class RequestStream {
    static final long GIB = 1L << 30;
    static final double[] LIFE_P = {0.63, 0.25, 0.12};
    static final double[] LIFE_MEAN = {0.25, 2, 8};

    private final SplittableRandom rnd;
    private final long seed;
    private long count;

    RequestStream(long seed) {
        this.seed = seed;
        this.rnd = new SplittableRandom(seed);
    }

    static HostTopology host(int i, SplittableRandom rnd) {
        double u = rnd.nextDouble();
        int nodes = u < 0.5 ? 2 : u < 0.8 ? 4 : 8;
        HostTopology.Reserve reserve = new HostTopology.Reserve(1, GIB);
        return HostTopology.from(io.ferryvm.core.host.HostInventory.declared(String.format("h%05d", i), nodes, 64 / nodes, 2,
                512 * GIB / nodes), reserve);
    }

    static List<HostTopology> hosts(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed ^ 0x5eed);
        java.util.ArrayList<HostTopology> out = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(host(i, rnd));
        }
        return out;
    }

    VmRequest next() {
        double u = rnd.nextDouble();
        int vcpus = u < 0.18 ? 1 : u < 0.58 ? 2 : u < 0.81 ? 4 : u < 0.93 ? 8 : u < 0.99 ? 16 : u < 0.997 ? 32 : 64;
        int perVcpu = new int[] {2, 4, 8}[rnd.nextInt(3)];
        if (vcpus > 16) {
            perVcpu = Math.min(perVcpu, 4);
        }
        boolean dedicated = rnd.nextDouble() < 0.4;
        double t = rnd.nextDouble();
        NumaSpec.ThreadPolicy tp = !dedicated || t < 0.8 || vcpus > 16 ? NumaSpec.ThreadPolicy.PREFER
                : t < 0.9 ? NumaSpec.ThreadPolicy.ISOLATE : NumaSpec.ThreadPolicy.REQUIRE;
        double m = rnd.nextDouble();
        NumaSpec.MemoryMode mm = m < 0.7 ? NumaSpec.MemoryMode.STRICT : m < 0.95 ? NumaSpec.MemoryMode.PREFERRED : NumaSpec.MemoryMode.INTERLEAVE;
        NumaSpec spec = new NumaSpec(0, List.of(), mm, dedicated ? NumaSpec.CpuPolicy.DEDICATED : NumaSpec.CpuPolicy.SHARED, tp, 4, -1);
        return new VmRequest(new UUID(seed, count++), vcpus, vcpus * perVcpu * GIB, spec, "");
    }

    /** A lifetime drawn from the mixture. */
    double lifetime() {
        return exp(LIFE_MEAN[component(LIFE_P)]);
    }

    /** A residual lifetime of a VM alive in steady state (components weighted by p x mean; exponential is memoryless). */
    double residualLifetime() {
        double[] w = new double[LIFE_P.length];
        for (int i = 0; i < w.length; i++) {
            w[i] = LIFE_P[i] * LIFE_MEAN[i];
        }
        return exp(LIFE_MEAN[component(w)]);
    }

    static double meanLifetime() {
        double m = 0;
        for (int i = 0; i < LIFE_P.length; i++) {
            m += LIFE_P[i] * LIFE_MEAN[i];
        }
        return m;
    }

    double exp(double mean) {
        return -Math.log(1 - rnd.nextDouble()) * mean;
    }

    private int component(double[] w) {
        double sum = 0;
        for (double x : w) {
            sum += x;
        }
        double u = rnd.nextDouble() * sum;
        for (int i = 0; i < w.length; i++) {
            u -= w[i];
            if (u < 0) {
                return i;
            }
        }
        return w.length - 1;
    }
}
