package io.ferryvm.cim;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs Debian's sblim-wbemcli as a user would (scripts/test.sh installs it). */
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
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            byte[] err = p.getErrorStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("wbemcli " + String.join(" ", args) + " did not finish in 60 s");
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new AssertionError("cannot run wbemcli: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
