package io.ferryvm.ovf;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/** Real tools the tests check Ferry's output with (qemu-img, xorriso), and realistic test data. */
final class Tools {
    record Run(int exit, String out) {}

    private Tools() {}

    static void require(String tool) {
        boolean found = false;
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                found = true;
                break;
            }
        }
        assumeTrue(found, tool + " is not installed (scripts/test.sh installs it): test skipped");
    }

    static Run run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + " did not finish in 120 s");
        }
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    static Run qemuImg(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add("qemu-img");
        cmd.addAll(List.of(args));
        return run(cmd.toArray(new String[0]));
    }

    /**
     * A disk image that looks like a real one: runs of zeros (unallocated space), text-like compressible
     * data, random (already compressed) data and repeated blocks, seeded so failures reproduce.
     */
    static void realisticDisk(Path file, long bytes, long seed) throws IOException {
        Random r = new Random(seed);
        byte[] block = new byte[1 << 16];
        byte[] words = "the quick brown fox jumps over the lazy dog; lorem ipsum dolor sit amet 0123456789\n".getBytes(StandardCharsets.US_ASCII);
        try (var out = Files.newOutputStream(file)) {
            long done = 0;
            while (done < bytes) {
                int n = (int) Math.min(block.length, bytes - done);
                int kind = r.nextInt(10);
                if (kind < 4) {
                    java.util.Arrays.fill(block, 0, n, (byte) 0);
                } else if (kind < 7) {
                    for (int i = 0; i < n; i++) {
                        block[i] = words[(i + r.nextInt(4)) % words.length];
                    }
                } else if (kind < 9) {
                    r.nextBytes(block);
                } else {
                    for (int i = 0; i < n; i++) {
                        block[i] = (byte) (i % 251);
                    }
                }
                out.write(block, 0, n);
                done += n;
            }
        }
    }
}
