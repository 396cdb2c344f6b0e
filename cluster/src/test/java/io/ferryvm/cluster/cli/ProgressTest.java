package io.ferryvm.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ferryvm.core.DiskSpec;
import io.ferryvm.core.NicSpec;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmSpecJson;
import io.ferryvm.core.guest.Workload;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI's progress output: a bar redrawn in place on a terminal (checked through a real pty made by
 * script(1)), plain lines when the output is a pipe, JSON lines with --json; and the renderer's
 * arithmetic (rate, ETA) on a fake clock.
 */
class ProgressTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static final class FakeClock {
        long nanos;
    }

    private static String render(Progress.Mode mode, FakeClock clock, PrintStreamSink sink) {
        Progress p = new Progress(sink.stream, mode, "copy", "B", () -> clock.nanos);
        long total = 100L << 20;
        for (int i = 1; i <= 10; i++) {
            clock.nanos += 1_000_000_000L; // 10 MiB per second
            p.update("disk0", i * (total / 10), total, Double.NaN, "");
        }
        p.end();
        return sink.text();
    }

    private static final class PrintStreamSink {
        final ByteArrayOutputStream buf = new ByteArrayOutputStream();
        final PrintStream stream = new PrintStream(buf, true, StandardCharsets.UTF_8);

        String text() {
            stream.flush();
            return buf.toString(StandardCharsets.UTF_8);
        }
    }

    @Test
    void theBarIsRedrawnInPlaceWithRateAndEta() {
        FakeClock clock = new FakeClock();
        String out = render(Progress.Mode.BAR, clock, new PrintStreamSink());
        String[] frames = out.split("\r");
        assertTrue(frames.length >= 10, out);
        assertTrue(frames[1].contains("[###---------------------------]") && frames[1].contains(" 10% "), frames[1]);
        assertTrue(frames[1].contains("10.0 MiB/s") && frames[1].contains("ETA 00:09"), frames[1]);
        assertTrue(frames[frames.length - 1].contains("100%") && frames[frames.length - 1].contains("ETA 00:00"), out);
        assertEquals(1, out.chars().filter(c -> c == '\n').count(), "one line in all, ended once: " + out);
    }

    @Test
    void plainLinesWhenNotATerminalAndJsonLinesForScripts() throws Exception {
        String plain = render(Progress.Mode.PLAIN, new FakeClock(), new PrintStreamSink());
        assertFalse(plain.contains("\r"), plain);
        List<String> lines = plain.lines().toList();
        assertEquals(10, lines.size(), plain);
        assertTrue(lines.get(4).startsWith("copy: disk0 50% 50.0 MiB of 100.0 MiB, 10.0 MiB/s, ETA 00:05"), lines.get(4));

        String json = render(Progress.Mode.JSON, new FakeClock(), new PrintStreamSink());
        List<String> objects = json.lines().toList();
        assertEquals(10, objects.size(), json);
        JsonNode half = JSON.readTree(objects.get(4));
        assertEquals("progress", half.get("event").asText());
        assertEquals(50L << 20, half.get("done").asLong());
        assertEquals(5, half.get("etaSeconds").asLong());
        assertEquals(10L << 20, half.get("ratePerSecond").asLong());
    }

    @Test
    void etaFormats() {
        assertEquals("--:--", Progress.etaText(Double.NaN));
        assertEquals("01:05", Progress.etaText(65));
        assertEquals("2:00:01", Progress.etaText(7201));
    }

    // ---- the real CLI, in a pty and through a pipe ----

    private Path exportInput() throws Exception {
        Path raw = dir.resolve("root.raw");
        byte[] data = new byte[8 << 20];
        new Random(7).nextBytes(data);
        Files.write(raw, data);
        VmSpec vm = new VmSpec(UUID.randomUUID(), "progress-vm", 1, 64L << 20, new Workload.Idle(), null,
                List.of(new DiskSpec("root", raw.toString(), data.length, "raw", "virtio", false)),
                List.of(new NicSpec("nic0", "lan", "", "virtio")), VmSpec.HaPolicy.NONE, "linux", Map.of());
        Path json = dir.resolve("vm.json");
        Files.write(json, VmSpecJson.toJson(vm));
        return json;
    }

    private static List<String> ferry(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Ferry.class.getName());
        cmd.addAll(List.of(args));
        return cmd;
    }

    private static String runProcess(List<String> cmd, Path out) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().put("TERM", "xterm");
        Process p = pb.start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the CLI did not end within 120 s");
        String text = Files.readString(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), text);
        return text;
    }

    @Test
    void exportShowsABarOnATerminalAndPlainLinesOnAPipe() throws Exception {
        Path spec = exportInput();
        String piped = runProcess(ferry("ovf", "export", spec.toString(), "-o", dir.resolve("a.ova").toString()), dir.resolve("piped.txt"));
        assertFalse(piped.contains("\r"), piped);
        assertTrue(piped.lines().anyMatch(l -> l.startsWith("export: ") && l.contains("ETA")), piped);
        assertTrue(piped.contains("exported 1 VM(s)"), piped);

        String json = runProcess(ferry("ovf", "export", spec.toString(), "-o", dir.resolve("b.ova").toString(), "--json"),
                dir.resolve("json.txt"));
        List<JsonNode> events = new ArrayList<>();
        for (String l : json.lines().toList()) {
            events.add(JSON.readTree(l)); // every line is one JSON object
        }
        assertTrue(events.stream().anyMatch(e -> e.get("event").asText().equals("progress")), json);
        assertEquals("export-ended", events.get(events.size() - 1).get("event").asText(), json);

        assumeTrue(Files.isExecutable(Path.of("/usr/bin/script")), "script(1) from bsdutils is not installed: the pty check is skipped");
        // script(1) runs the CLI on a fresh pseudo-terminal: stdin and stdout are a tty, as for a person at a terminal.
        String line = String.join(" ", ferry("ovf", "export", spec.toString(), "-o", dir.resolve("c.ova").toString())
                .stream().map(a -> "'" + a.replace("'", "'\\''") + "'").toList());
        String tty = runProcess(List.of("/usr/bin/script", "-q", "-e", "-c", line, "/dev/null"), dir.resolve("tty.txt"));
        assertTrue(tty.contains("\rexport ") && tty.contains("ETA"), tty);
        assertTrue(tty.contains("exported 1 VM(s)"), tty);
    }
}
