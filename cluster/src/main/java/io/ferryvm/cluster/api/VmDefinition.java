package io.ferryvm.cluster.api;

import io.ferryvm.core.DiskSpec;
import io.ferryvm.core.NicSpec;
import io.ferryvm.core.NumaSpec;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.guest.Workload;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * A VM definition as the REST API and the CLI accept it: {@link VmSpec}'s fields, with the id optional
 * (a new one is made) and the memory given either in bytes ({@code memoryBytes}) or as a size string
 * ({@code memory: "256M"}).
 */
public record VmDefinition(UUID id, String name, int vcpus, Long memoryBytes, String memory, Workload workload, NumaSpec numa,
        List<DiskSpec> disks, List<NicSpec> nics, VmSpec.HaPolicy ha, String osType, Map<String, String> metadata) {

    public VmSpec toSpec() {
        long mem;
        if (memoryBytes != null && memory != null) {
            throw new IllegalArgumentException("give memoryBytes or memory, not both");
        }
        if (memoryBytes != null) {
            mem = memoryBytes;
        } else if (memory != null) {
            mem = parseSize(memory);
        } else {
            throw new IllegalArgumentException("memory is required (memoryBytes: 268435456 or memory: \"256M\")");
        }
        return new VmSpec(id == null ? UUID.randomUUID() : id, name, vcpus, mem, workload, numa, disks, nics, ha, osType, metadata);
    }

    public static VmDefinition of(VmSpec s) {
        return new VmDefinition(s.id(), s.name(), s.vcpus(), s.memoryBytes(), null, s.workload(), s.numa(), s.disks(), s.nics(),
                s.ha(), s.osType(), s.metadata());
    }

    /** Byte sizes as people write them: 4096, 512K, 256M, 4G, 1T (binary units; "MiB"/"MB" also accepted). */
    public static long parseSize(String s) {
        String t = s.trim().toUpperCase(Locale.ROOT).replace("IB", "").replace("B", "");
        long mult = 1;
        if (!t.isEmpty()) {
            switch (t.charAt(t.length() - 1)) {
                case 'K' -> mult = 1L << 10;
                case 'M' -> mult = 1L << 20;
                case 'G' -> mult = 1L << 30;
                case 'T' -> mult = 1L << 40;
                default -> mult = 1;
            }
        }
        String num = mult == 1 ? t : t.substring(0, t.length() - 1);
        try {
            long v = Long.parseLong(num.trim());
            if (v < 0 || v > Long.MAX_VALUE / mult) {
                throw new IllegalArgumentException("size '" + s + "' out of range");
            }
            return v * mult;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + s + "' is not a size (examples: 4096, 512K, 256M, 4G)");
        }
    }
}
