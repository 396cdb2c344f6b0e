package io.ferryvm.chaos;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.SplittableRandom;

/**
 * The settings of one chaos run, from system properties the pom sets: the seed every random choice derives
 * from, default run or long soak, where the packaged ferry.jar is and where runs write their logs.
 *
 * <p>Each suite draws from its own stream ({@link #random(String)}): the seed and the suite's name give the
 * same choices whatever ran before, so a failing schedule is replayed with {@code -Dferry.chaos.seed=N}.
 */
final class Chaos {
    static final long SEED = seed(System.getProperty("ferry.chaos.seed", "1"));
    /** The exhaustive run: -Dchaos.full=true (or its older name -Dferry.chaos.soak=true). */
    static final boolean SOAK = Boolean.getBoolean("chaos.full") || Boolean.getBoolean("ferry.chaos.soak");

    private Chaos() {}

    private static long seed(String s) {
        if (s == null || s.isBlank() || s.equals("random")) {
            return new SplittableRandom().nextLong() >>> 16; // short enough to type back in
        }
        return Long.parseLong(s.trim());
    }

    /** A random stream of its own for one suite or scenario, fixed by the run's seed. */
    static SplittableRandom random(String purpose) {
        long h = SEED;
        for (byte b : purpose.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ b) * 0x100000001B3L; // FNV-1a over the name, mixed into the seed
        }
        return new SplittableRandom(h);
    }

    static Path jar() {
        return Path.of(System.getProperty("ferry.jar", "../cluster/target/ferry.jar")).toAbsolutePath().normalize();
    }

    static Path runDir() {
        return Path.of(System.getProperty("ferry.chaos.dir", "target/chaos")).toAbsolutePath();
    }

    /** "netns", "loopback" or "auto" (netns where the machine allows it). */
    static String networkKind() {
        return System.getProperty("ferry.chaos.network", "auto");
    }

    /** The default run's bound, or the soak's. */
    static Duration pick(Duration defaultRun, Duration soak) {
        return SOAK ? soak : defaultRun;
    }
}
