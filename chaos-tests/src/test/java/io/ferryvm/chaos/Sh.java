package io.ferryvm.chaos;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a system command (ip, nft, tc, mount) to completion, bounded in time; a failure says what ran and what it said. */
final class Sh {
    private Sh() {}

    record Result(int status, String output) {}

    static Result run(List<String> cmd) {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        try {
            Process p = pb.start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new ChaosException(String.join(" ", cmd) + ": did not finish within 30 s");
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8).trim());
        } catch (IOException e) {
            throw new ChaosException(String.join(" ", cmd) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ChaosException(String.join(" ", cmd) + ": interrupted", e);
        }
    }

    /** Runs the command and throws unless it exits 0. */
    static String ok(String... cmd) {
        Result r = run(List.of(cmd));
        if (r.status() != 0) {
            throw new ChaosException(String.join(" ", cmd) + " exited " + r.status() + ": " + r.output());
        }
        return r.output();
    }

    /** Runs the command and ignores how it ends (cleanup of what may not exist). */
    static void quietly(String... cmd) {
        try {
            run(List.of(cmd));
        } catch (ChaosException ignored) {
            // cleanup: nothing to undo
        }
    }

    static boolean available(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
            if (java.nio.file.Files.isExecutable(java.nio.file.Path.of(dir, command))) {
                return true;
            }
        }
        return java.nio.file.Files.isExecutable(java.nio.file.Path.of("/usr/sbin", command))
                || java.nio.file.Files.isExecutable(java.nio.file.Path.of("/sbin", command));
    }
}
