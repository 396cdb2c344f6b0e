package io.ferryvm.core.guest;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

/**
 * What a VM's guest does: one of the built-in deterministic programs. Rates are dirty rates: page
 * writes per second times 4 KiB (a re-written page counts again; the unique dirty rate a migration sees
 * is lower for skewed access). A rate of 0 means as fast as the vCPU runs. With several vCPUs, each
 * vCPU works on its own equal slice of the range, so the result does not depend on thread timing.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "program")
@JsonSubTypes({
    @JsonSubTypes.Type(value = Workload.Idle.class, name = "idle"),
    @JsonSubTypes.Type(value = Workload.PageWalk.class, name = "pagewalk"),
    @JsonSubTypes.Type(value = Workload.HotSet.class, name = "hotset"),
    @JsonSubTypes.Type(value = Workload.RandomWrites.class, name = "random"),
    @JsonSubTypes.Type(value = Workload.Fill.class, name = "fill")
})
public sealed interface Workload {
    /** Name used on the command line and in reports. */
    String program();

    /** The same program without its rate limit: what a replay runs (content never depends on the rate). */
    default Workload withoutRateLimit() {
        return this;
    }

    /** Halted vCPUs: memory never changes (QEMU's idle guest). */
    record Idle() implements Workload {
        @Override
        public String program() {
            return "idle";
        }
    }

    /**
     * QEMU's migration-test guest: byte 0 of every page in [offset, offset + length) is incremented, page
     * after page, pass after pass; 'B' on the serial port every 64 passes. length 0 means to the end of
     * memory.
     */
    record PageWalk(long offset, long length, double dirtyRateMiBps) implements Workload {
        public PageWalk {
            requirePageAligned("pagewalk offset", offset);
            requirePageAligned("pagewalk length", length);
            requireRate(dirtyRateMiBps);
        }

        @Override
        public String program() {
            return "pagewalk";
        }

        @Override
        public Workload withoutRateLimit() {
            return new PageWalk(offset, length, 0);
        }
    }

    /**
     * Zipf-distributed 8-byte writes over a working set of pages at [offset, offset + workingSetBytes):
     * a few pages very hot, a long tail (exponent s, typically 0.8..1.2).
     */
    record HotSet(long offset, long workingSetBytes, double zipfExponent, double dirtyRateMiBps, long seed)
            implements Workload {
        public HotSet {
            requirePageAligned("hotset offset", offset);
            requirePageAligned("hotset working set", workingSetBytes);
            if (workingSetBytes == 0) {
                throw new IllegalArgumentException("hotset working set must be at least one page");
            }
            if (!(zipfExponent > 0 && zipfExponent <= 4)) {
                throw new IllegalArgumentException("hotset Zipf exponent " + zipfExponent + " outside (0, 4]");
            }
            requireRate(dirtyRateMiBps);
        }

        @Override
        public String program() {
            return "hotset";
        }

        @Override
        public Workload withoutRateLimit() {
            return new HotSet(offset, workingSetBytes, zipfExponent, 0, seed);
        }
    }

    /** Uniformly random 8-byte writes over all of memory. */
    record RandomWrites(double dirtyRateMiBps, long seed) implements Workload {
        public RandomWrites {
            requireRate(dirtyRateMiBps);
        }

        @Override
        public String program() {
            return "random";
        }

        @Override
        public Workload withoutRateLimit() {
            return new RandomWrites(0, seed);
        }
    }

    /**
     * Writes every page once, then halts: zeroPercent of pages stay zero, textPercent get code/data-like
     * (compressible) content, the rest random bytes. The content shapes of the migration benchmarks.
     */
    record Fill(int zeroPercent, int textPercent, long seed) implements Workload {
        public Fill {
            if (zeroPercent < 0 || textPercent < 0 || zeroPercent + textPercent > 100) {
                throw new IllegalArgumentException("fill percentages " + zeroPercent + "% zero + " + textPercent
                        + "% text must be non-negative and at most 100");
            }
        }

        public int randomPercent() {
            return 100 - zeroPercent - textPercent;
        }

        @Override
        public String program() {
            return "fill";
        }
    }

    private static void requirePageAligned(String what, long v) {
        if (v < 0 || (v & 4095) != 0) {
            throw new IllegalArgumentException(what + " " + v + " must be a non-negative multiple of 4096");
        }
    }

    private static void requireRate(double mibps) {
        if (!(mibps >= 0) || Double.isInfinite(mibps)) {
            throw new IllegalArgumentException("dirty rate " + mibps + " MiB/s must be >= 0 (0 = unlimited)");
        }
    }
}
