package io.ferryvm.cluster.cim;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs Debian's sblim-wbemcli (scripts/test.sh installs it) and returns its exit code and output. */
final class Wbemcli {
    record Result(int exit, String out, String err) {
        String all() {
            return out + err;
        }
    }

    private Wbemcli() {}

    static void require() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, "wbemcli"))) {
                return;
            }
        }
        throw new AssertionError("wbemcli is not installed: scripts/test.sh installs it (Debian package sblim-wbemcli)");
    }

    static Result run(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add("wbemcli");
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).start();
            p.getOutputStream().close(); // wbemcli asks for a password on stdin when it gets a 401: give it none
            byte[] out = p.getInputStream().readAllBytes();
            byte[] err = p.getErrorStream().readAllBytes();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("wbemcli " + String.join(" ", args) + " did not finish in 120 s");
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new AssertionError("cannot run wbemcli: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Runs and asserts exit code 0. */
    static String ok(String... args) {
        Result r = run(args);
        if (r.exit() != 0) {
            throw new AssertionError("wbemcli " + String.join(" ", args) + " exited " + r.exit() + ":\n" + r.all());
        }
        return r.out();
    }
}
