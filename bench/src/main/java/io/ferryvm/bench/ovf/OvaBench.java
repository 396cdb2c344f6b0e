package io.ferryvm.bench.ovf;

import io.ferryvm.core.DiskSpec;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.guest.Workload;
import io.ferryvm.ovf.DiskImages;
import io.ferryvm.ovf.OvfExporter;
import io.ferryvm.ovf.OvfImporter;
import io.ferryvm.ovf.OvfVersion;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * End-to-end OVA benchmark with its baseline measured in the same run (never run by mvn verify).
 *
 * <p>Generates a raw disk of realistic content (runs of zeros, text-like data, incompressible data, repeated
 * blocks), then measures: export (raw to a VMDK 3 streamOptimized) by Ferry against
 * {@code qemu-img convert -O vmdk -o subformat=streamOptimized}; and import of the OVA holding Ferry's VMDK
 * (verify its SHA-256 manifest and convert to raw, one streaming pass) against the same work done by
 * {@code tar -x} + {@code sha256sum} + {@code qemu-img convert -O raw}. Prints MB/s and ratios; checks
 * that both imports produced the original bytes; deletes everything it generated.
 *
 * <pre>java -cp bench/target/benchmarks.jar io.ferryvm.bench.ovf.OvaBench [--gib 4] [--dir /var/tmp]</pre>
 */
public final class OvaBench {
    private OvaBench() {}

    public static void main(String[] args) throws Exception {
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
                .setLevel(ch.qos.logback.classic.Level.WARN);
        double gib = 4;
        Path base = Path.of(System.getProperty("java.io.tmpdir"));
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--gib" -> gib = Double.parseDouble(args[++i]);
                case "--dir" -> base = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("usage: OvaBench [--gib N] [--dir DIR]");
            }
        }
        long bytes = (long) (gib * (1L << 30)) / 65536 * 65536;
        Path dir = Files.createTempDirectory(base, "ferry-ova-bench-");
        try {
            run(dir, bytes);
        } finally {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static void run(Path dir, long bytes) throws Exception {
        System.out.printf(Locale.ROOT, "ovf bench: %.2f GiB disk, %d CPUs, %s, in %s%n", bytes / (double) (1L << 30),
                Runtime.getRuntime().availableProcessors(), firstLine("qemu-img", "--version"), dir);
        Path raw = dir.resolve("disk.raw");
        long t0 = System.nanoTime();
        long nonZero = generate(raw, bytes, 42);
        System.out.printf(Locale.ROOT, "generated %s (%.0f%% non-zero) in %.1f s%n", raw.getFileName(), 100.0 * nonZero / bytes, secs(t0));

        // export: Ferry's VMDK writer against qemu-img's
        Path qemuVmdk = dir.resolve("qemu.vmdk");
        t0 = System.nanoTime();
        exec("qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized", raw.toString(), qemuVmdk.toString());
        double qemuExport = secs(t0);
        Path ferryVmdk = dir.resolve("ferry.vmdk");
        t0 = System.nanoTime();
        DiskImages.rawToStreamOptimized(raw, bytes, ferryVmdk);
        double ferryExport = secs(t0);
        report("export raw -> streamOptimized VMDK", bytes, ferryExport, qemuExport, "qemu-img convert",
                String.format(Locale.ROOT, "VMDK %d MB (Ferry) vs %d MB (qemu-img)", Files.size(ferryVmdk) / 1_000_000, Files.size(qemuVmdk) / 1_000_000));
        exec("qemu-img", "check", ferryVmdk.toString());
        Files.delete(qemuVmdk);
        Files.delete(ferryVmdk);

        // the OVA: Ferry's full export (VMDK, descriptor, SHA-256 manifest, ustar)
        VmSpec vm = new VmSpec(UUID.randomUUID(), "bench", 2, 1L << 30, new Workload.Idle(), null,
                List.of(new DiskSpec("root", raw.toString(), bytes, "raw", "scsi", false)), List.of(), VmSpec.HaPolicy.NONE, "linux", Map.of());
        Path ova = dir.resolve("bench.ova");
        t0 = System.nanoTime();
        new OvfExporter(new OvfExporter.Options(OvfVersion.V2, OvfExporter.Target.VMWARE, null, true, null, List.of()), OvfImporter.Progress.NONE)
                .export(List.of(vm), ova);
        double exportOva = secs(t0);
        long ovaBytes = Files.size(ova);
        System.out.printf(Locale.ROOT, "export to OVA (VMDK + manifest + tar): %.1f s, %.0f MB/s of disk, OVA %d MB%n", exportOva,
                bytes / exportOva / 1e6, ovaBytes / 1_000_000);

        // import: Ferry (one pass: tar, SHA-256, inflate, sparse raw) against tar -x + sha256sum + qemu-img convert
        Path target = dir.resolve("imported");
        t0 = System.nanoTime();
        OvfImporter.Result r = new OvfImporter(OvfImporter.Options.DEFAULT.requiring(true, false), OvfImporter.Progress.NONE)
                .importPackage(ova.toString(), target);
        double ferryImport = secs(t0);
        Path extracted = dir.resolve("x");
        Files.createDirectory(extracted);
        t0 = System.nanoTime();
        exec("tar", "-xf", ova.toString(), "-C", extracted.toString());
        double tarSecs = secs(t0);
        Path member = extracted.resolve("bench-root.vmdk");
        t0 = System.nanoTime();
        exec("sha256sum", member.toString());
        double shaSecs = secs(t0);
        Path qemuRaw = dir.resolve("qemu.raw");
        t0 = System.nanoTime();
        exec("qemu-img", "convert", "-f", "vmdk", "-O", "raw", member.toString(), qemuRaw.toString());
        double convSecs = secs(t0);
        System.out.printf(Locale.ROOT, "baseline parts: tar -x %.1f s, sha256sum %.1f s, qemu-img convert %.1f s%n", tarSecs, shaSecs, convSecs);
        report("import OVA -> raw (verify + convert), MB/s of OVA read", ovaBytes, ferryImport, shaSecs + convSecs, "sha256sum + qemu-img convert",
                r.manifest() + String.format(Locale.ROOT, "; %.0f MB/s of disk produced", bytes / ferryImport / 1e6));
        report("import OVA -> raw (verify + convert), MB/s of OVA read", ovaBytes, ferryImport, tarSecs + shaSecs + convSecs,
                "tar -x + sha256sum + qemu-img convert", "");
        Path ferryRaw = Path.of(r.vms().get(0).spec().disks().get(0).path());
        int cmp1 = exec("cmp", raw.toString(), ferryRaw.toString());
        int cmp2 = exec("cmp", raw.toString(), qemuRaw.toString());
        System.out.println("check: Ferry's raw " + (cmp1 == 0 ? "identical" : "DIFFERS") + ", qemu-img's raw " + (cmp2 == 0 ? "identical" : "DIFFERS"));
    }

    private static void report(String what, long bytes, double ferry, double baseline, String baselineName, String note) {
        System.out.printf(Locale.ROOT, "%s: Ferry %.1f s = %.0f MB/s; %s %.1f s = %.0f MB/s; ratio (baseline time / Ferry time) %.2f%s%n", what,
                ferry, bytes / ferry / 1e6, baselineName, baseline, bytes / baseline / 1e6, baseline / ferry, note.isEmpty() ? "" : "; " + note);
    }

    private static double secs(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    private static int exec(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        int rc = p.waitFor();
        if (rc != 0 && !cmd[0].equals("cmp")) {
            throw new IOException(String.join(" ", cmd) + " exited " + rc);
        }
        return rc;
    }

    private static String firstLine(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor();
            return out.lines().findFirst().orElse("?");
        } catch (IOException e) {
            return "qemu-img missing";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "?";
        }
    }

    /**
     * Realistic disk content in 64 KiB blocks: 40% zeros (free space), 30% text-like (logs, configs, code),
     * 20% random (compressed archives, media), 10% repeated binary patterns. Returns the non-zero bytes.
     */
    static long generate(Path file, long bytes, long seed) throws IOException {
        Random r = new Random(seed);
        byte[] block = new byte[1 << 16];
        byte[] words = "the quick brown fox jumps over the lazy dog; lorem ipsum dolor sit amet 0123456789 INFO GET /index.html 200\n"
                .getBytes(StandardCharsets.US_ASCII);
        long nonZero = 0;
        List<byte[]> pool = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            byte[] b = new byte[block.length];
            r.nextBytes(b);
            pool.add(b);
        }
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
            for (long done = 0; done < bytes; done += block.length) {
                int kind = r.nextInt(10);
                if (kind < 4) {
                    java.util.Arrays.fill(block, (byte) 0);
                } else if (kind < 7) {
                    int off = r.nextInt(words.length);
                    for (int i = 0; i < block.length; i++) {
                        block[i] = words[(i + off + (i >> 9)) % words.length];
                    }
                    nonZero += block.length;
                } else if (kind < 9) {
                    // incompressible, drawn from a pool so generation stays fast
                    System.arraycopy(pool.get(r.nextInt(pool.size())), 0, block, 0, block.length);
                    block[r.nextInt(block.length)] ^= (byte) r.nextInt(256);
                    nonZero += block.length;
                } else {
                    for (int i = 0; i < block.length; i++) {
                        block[i] = (byte) (i * 31 % 251);
                    }
                    nonZero += block.length;
                }
                out.write(block);
            }
        }
        return nonZero;
    }
}
