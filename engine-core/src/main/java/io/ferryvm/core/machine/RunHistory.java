package io.ferryvm.core.machine;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.LongSupplier;

/**
 * When each guest of one host executed, on the wall clock: one interval per stretch of vCPU execution
 * (start or resume to pause or stop), the last {@code capacity} of them, including VMs that have left
 * the host. All processes of a machine share its wall clock, so the histories of two hosts on one
 * machine can be compared: a guest that ran in two places at once shows as two overlapping intervals.
 *
 * <p>Implementation notes. An interval is opened before the vCPUs are released and closed only after
 * every vCPU reached its safe point, so each recorded interval covers the real execution: an overlap
 * of recorded intervals may be a false alarm of at most the time between those points, a missing
 * overlap never is. Micro-second resolution; an interval still open has {@code to = Long.MAX_VALUE}.
 */
public final class RunHistory {
    /** One stretch of execution of a VM's vCPUs, in microseconds since the epoch. */
    public record Run(UUID vm, long fromMicros, long toMicros) {
        public boolean open() {
            return toMicros == Long.MAX_VALUE;
        }
    }

    private final int capacity;
    private final LongSupplier wallMicros;
    private final Deque<Run> closed = new ArrayDeque<>();
    private final Map<UUID, Long> openSince = new HashMap<>();

    public RunHistory(int capacity) {
        this(capacity, RunHistory::nowMicros);
    }

    /** With a clock of its own (tests). */
    public RunHistory(int capacity, LongSupplier wallMicros) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1");
        }
        this.capacity = capacity;
        this.wallMicros = wallMicros;
    }

    static long nowMicros() {
        Instant i = Instant.now();
        return i.getEpochSecond() * 1_000_000L + i.getNano() / 1_000;
    }

    /** The VM's vCPUs are about to execute; a second call while open changes nothing. */
    public synchronized void started(UUID vm) {
        openSince.putIfAbsent(vm, wallMicros.getAsLong());
    }

    /** Every vCPU of the VM has stopped executing; a call while nothing is open changes nothing. */
    public synchronized void stopped(UUID vm) {
        Long from = openSince.remove(vm);
        if (from == null) {
            return;
        }
        closed.addLast(new Run(vm, from, Math.max(from, wallMicros.getAsLong())));
        while (closed.size() > capacity) {
            closed.removeFirst();
        }
    }

    /** Closed intervals, oldest first, then the open ones. */
    public synchronized List<Run> runs() {
        List<Run> out = new ArrayList<>(closed);
        openSince.forEach((vm, from) -> out.add(new Run(vm, from, Long.MAX_VALUE)));
        return out;
    }
}
