package io.ferryvm.core.machine;

import java.util.List;
import java.util.Objects;

/**
 * How a guest's memory is placed on the host's NUMA nodes, the Linux mempolicy modes: {@code BIND} (only
 * these nodes: strict), {@code PREFERRED} (the first node, falling back elsewhere), {@code INTERLEAVE}
 * (round-robin over the nodes), or {@code DEFAULT} (the kernel decides; no nodes).
 */
public record MemoryPolicy(Mode mode, List<Integer> nodes) {
    public enum Mode { DEFAULT, BIND, PREFERRED, INTERLEAVE }

    public static final MemoryPolicy DEFAULT = new MemoryPolicy(Mode.DEFAULT, List.of());

    public MemoryPolicy {
        Objects.requireNonNull(mode, "mode");
        nodes = List.copyOf(nodes);
        if (mode == Mode.DEFAULT && !nodes.isEmpty()) {
            throw new IllegalArgumentException("memory policy DEFAULT takes no nodes, got " + nodes);
        }
        if (mode != Mode.DEFAULT && nodes.isEmpty()) {
            throw new IllegalArgumentException("memory policy " + mode + " needs at least one node");
        }
        if (mode == Mode.PREFERRED && nodes.size() != 1) {
            throw new IllegalArgumentException("memory policy PREFERRED takes exactly one node, got " + nodes);
        }
        for (int n : nodes) {
            if (n < 0 || n >= LinuxSys.NODE_MASK_BITS) {
                throw new IllegalArgumentException("NUMA node " + n + " out of range 0.." + (LinuxSys.NODE_MASK_BITS - 1));
            }
        }
    }

    public static MemoryPolicy bind(Integer... nodes) {
        return new MemoryPolicy(Mode.BIND, List.of(nodes));
    }

    public static MemoryPolicy preferred(int node) {
        return new MemoryPolicy(Mode.PREFERRED, List.of(node));
    }

    public static MemoryPolicy interleave(Integer... nodes) {
        return new MemoryPolicy(Mode.INTERLEAVE, List.of(nodes));
    }

    long[] nodeMask() {
        long[] mask = new long[LinuxSys.NODE_MASK_BITS / 64];
        for (int n : nodes) {
            mask[n >>> 6] |= 1L << n;
        }
        return mask;
    }

    int linuxMode() {
        return switch (mode) {
            case DEFAULT -> LinuxSys.MPOL_DEFAULT;
            case BIND -> LinuxSys.MPOL_BIND;
            case PREFERRED -> LinuxSys.MPOL_PREFERRED;
            case INTERLEAVE -> LinuxSys.MPOL_INTERLEAVE;
        };
    }

    @Override
    public String toString() {
        return mode == Mode.DEFAULT ? "default" : mode.name().toLowerCase() + ":" + nodes;
    }
}
