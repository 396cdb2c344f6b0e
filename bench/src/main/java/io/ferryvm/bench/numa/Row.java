package io.ferryvm.bench.numa;

import io.ferryvm.numa.Fragmentation;
import io.ferryvm.numa.HostState;
import io.ferryvm.numa.HostTopology;
import io.ferryvm.numa.NumaFitter;
import io.ferryvm.numa.Placement;
import java.util.Collection;
import org.HdrHistogram.Histogram;

/** The measured outcome of one policy in one scenario: cluster metrics plus latency. */
final class Row {
    static final long MIN_VM_MEMORY = 2L << 30;

    final String policy;
    final String label;
    final long requests;
    final long placed;
    final Histogram latency;
    final double seconds;
    double cpuUtil;
    double memUtil;
    int hostsUsed;
    long lowerBound;
    double confined;
    double strandedCpus;
    double strandedGiB;
    double remoteGiB;
    long conflicts;

    Row(String policy, String label, long requests, long placed, Histogram latency, double seconds, Collection<HostState> states) {
        this.policy = policy;
        this.label = label;
        this.requests = requests;
        this.placed = placed;
        this.latency = latency;
        this.seconds = seconds;
        measure(states);
    }

    private void measure(Collection<HostState> states) {
        double capCpu = 0;
        double freeCpu = 0;
        double capMem = 0;
        double freeMem = 0;
        double demandCpu = 0;
        double demandMem = 0;
        int maxCpu = 0;
        long maxMem = 0;
        long single = 0;
        long singleConfined = 0;
        for (HostState s : states) {
            HostTopology t = s.topology();
            capCpu += t.guestCpuCount();
            freeCpu += s.freeCpus();
            capMem += t.totalMemory();
            freeMem += s.freeMemory();
            maxCpu = Math.max(maxCpu, t.guestCpuCount());
            maxMem = Math.max(maxMem, t.totalMemory());
            if (!s.placements().isEmpty()) {
                hostsUsed++;
            }
            for (Placement p : s.placements()) {
                demandCpu += p.dedicated() ? p.request().vcpus() : p.request().vcpus() / s.cpuOvercommit();
                demandMem += p.request().memoryBytes();
                if (NumaFitter.minNodes(t, p.request()) == 1) {
                    single++;
                    if (p.cells().size() == 1 && p.remoteMemory() == 0) {
                        singleConfined++;
                    }
                }
            }
        }
        cpuUtil = 1 - freeCpu / capCpu;
        memUtil = 1 - freeMem / capMem;
        lowerBound = Math.max((long) Math.ceil(demandCpu / maxCpu), (long) Math.ceil(demandMem / maxMem));
        confined = single == 0 ? 1 : (double) singleConfined / single;
        Fragmentation f = Fragmentation.of(states, MIN_VM_MEMORY);
        strandedCpus = f.strandedCpus();
        strandedGiB = f.strandedMemory() / (double) (1L << 30);
        remoteGiB = f.remoteMemory() / (double) (1L << 30);
    }

    double perSecond() {
        return seconds == 0 ? 0 : latency.getTotalCount() / seconds;
    }

    double micros(double percentile) {
        return latency.getTotalCount() == 0 ? 0 : latency.getValueAtPercentile(percentile) / 1000.0;
    }
}
