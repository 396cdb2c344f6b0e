package io.ferryvm.core.guest;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Zipf(s) over ranks 0..n-1 as an integer CDF, so sampling is integer-only and deterministic on every
 * JVM (the table is built with StrictMath). Sampling is a binary search: O(log n), no floating point.
 */
final class ZipfTable {
    static final int MAX_RANKS = 1 << 20;
    private static final long SCALE = 1L << 62;
    private static final Map<String, ZipfTable> CACHE = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, ZipfTable> e) {
            return size() > 8;
        }
    };

    private final long[] cdf;

    private ZipfTable(int n, double s) {
        double[] w = new double[n];
        double h = 0;
        for (int k = 0; k < n; k++) {
            w[k] = 1.0 / StrictMath.pow(k + 1, s);
            h += w[k];
        }
        cdf = new long[n];
        double acc = 0;
        for (int k = 0; k < n; k++) {
            acc += w[k];
            cdf[k] = k == n - 1 ? SCALE : (long) (acc / h * SCALE);
        }
    }

    static ZipfTable of(int n, double s) {
        if (n < 1 || n > MAX_RANKS) {
            throw new IllegalArgumentException("Zipf ranks " + n + " outside 1.." + MAX_RANKS);
        }
        String key = n + "/" + Double.doubleToLongBits(s);
        synchronized (CACHE) {
            return CACHE.computeIfAbsent(key, k -> new ZipfTable(n, s));
        }
    }

    int size() {
        return cdf.length;
    }

    /** The rank for 64 random bits: the first k with cdf[k] > u, u uniform in [0, 2^62). */
    int sample(long bits) {
        long u = bits >>> 2;
        int lo = 0;
        int hi = cdf.length - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (cdf[mid] > u) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo;
    }
}
