package io.ferryvm.chaos;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryvm.core.DiskSpec;
import io.ferryvm.core.Host;
import io.ferryvm.core.HostConfig;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.host.HostInventory;
import io.ferryvm.core.machine.GuestMemory;
import io.ferryvm.migration.Failpoints;
import io.ferryvm.migration.MigrationFailure;
import io.ferryvm.migration.MigrationListener;
import io.ferryvm.migration.MigrationOffer;
import io.ferryvm.migration.MigrationReport;
import io.ferryvm.migration.MigrationRequest;
import io.ferryvm.migration.MigrationService;
import io.ferryvm.migration.MigrationTarget;
import io.ferryvm.migration.TcpTransport;
import io.ferryvm.ovf.OvfException;
import io.ferryvm.ovf.OvfExporter;
import io.ferryvm.ovf.OvfImporter;
import io.ferryvm.ovf.OvfVersion;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile input, seeded and bounded, against the real parsers: migration frames at a prepared target's
 * listener, OVF descriptors and OVA archives at the importer (and a few through the packaged CLI), and
 * requests at a running node's REST API. Each input must be refused with a clear error (or accepted, if the
 * mutation happened to stay valid), the process must keep serving, and nothing may change that the input
 * should not have changed. The generators are plain seeded code (SplittableRandom), mutating valid inputs
 * and planting the known bug classes: XXE and entity bombs, path traversal, absurd lengths, missing and
 * wrong headers, malformed nested structures.
 */
class HostileInputIT {
    /** The run's crash count when a test began: each test answers for its own. */
    long crashesAtStart;

    /** The run's violation count when a test began: a violation recorded by a test fails that test. */
    long violationsAtStart;

    @org.junit.jupiter.api.BeforeEach
    void countCrashes() {
        crashesAtStart = Summary.RUN.crashCount();
        violationsAtStart = Summary.RUN.violationCount();
    }

    @org.junit.jupiter.api.AfterEach
    void noViolations() {
        List<String> all = Summary.RUN.violations();
        assertEquals(List.of(), all.subList((int) Math.min(violationsAtStart, all.size()), all.size()),
                "violations recorded by this test (also printed as [chaos] VIOLATION lines)");
    }

    static final int FRAMES = Chaos.SOAK ? 3000 : 150;
    static final int PACKAGES = Chaos.SOAK ? 3000 : 300;
    static final int REQUESTS = Chaos.SOAK ? 5000 : 400;

    // ---- migration frames ----

    /**
     * A target prepared in this JVM (engine-core host, migration service, TCP listener) gets a connection per
     * input: garbage, broken headers, a HELLO with the wrong token or shape, or a genuine HELLO followed by
     * RAM, SYNC, STATE, DIGEST, DIRTY_MAP and DONE frames that are wrong in one way each (with correct CRCs, so
     * the checks behind the CRC are reached). The target must end (or keep waiting, for a stranger) with a
     * named failure, leave no VM and no guest memory behind, and still take a real migration afterwards.
     */
    @Test
    void migrationFramesAtAPreparedTarget(@TempDir Path dir) throws Exception {
        SplittableRandom rnd = Chaos.random("frames");
        Host target = Host.open(new HostConfig("fuzz-target", dir.resolve("t"), HostInventory.declared("fuzz-target", 1, 4, 1, 8L << 30),
                null, null));
        Host source = Host.open(new HostConfig("fuzz-source", dir.resolve("s"), HostInventory.declared("fuzz-source", 1, 4, 1, 8L << 30),
                null, null));
        MigrationService in = new MigrationService(target, new TcpTransport(), Failpoints.none(), MigrationListener.NONE);
        MigrationService out = new MigrationService(source, new TcpTransport(), Failpoints.none(), MigrationListener.NONE);
        long baseline = GuestMemory.liveBytes();
        int refusedClearly = 0;
        try {
            for (int i = 0; i < FRAMES; i++) {
                VmSpec spec = VmSpec.of("fz-" + i, 1, 4L << 20, new Workload.PageWalk(0, 0, 0));
                MigrationOffer offer = new MigrationOffer(UUID.randomUUID(), spec,
                        MigrationRequest.defaults().withChannels(2).withTimeout(Duration.ofSeconds(5)), 2, "fuzzer");
                MigrationTarget t = in.prepare(offer);
                byte[] token = HexFormat.of().parseHex(t.ticket().token());
                String[] hp = t.ticket().endpoint().address().split(":");
                byte[] input = frameInput(rnd, offer, token);
                byte[] answer = exchange(hp[0], Integer.parseInt(hp[1]), input);
                MigrationFailure f = t.failure();
                if (f instanceof MigrationFailure.HostError h && h.detail().startsWith("receiver:")) {
                    Summary.RUN.crash("frame input " + i + ": the receiver failed unexpectedly: " + h.detail());
                } else if (f != null || answersAbort(answer)) {
                    refusedClearly++;
                }
                t.abort(new MigrationFailure.PeerLost("fuzzer", "input done")); // a stranger's connection leaves it waiting
                int n = i;
                try {
                    await().atMost(Duration.ofSeconds(20)).until(() -> !target.has(spec.id()) && GuestMemory.liveBytes() == baseline);
                } catch (org.awaitility.core.ConditionTimeoutException e) {
                    Summary.RUN.violation("frame input " + n + " left state behind: VM " + target.has(spec.id()) + ", guest memory "
                            + (GuestMemory.liveBytes() - baseline) + " bytes over");
                }
            }
            Summary.RUN.inputs("migration frames", FRAMES);
            // the target still serves: a real migration goes through
            VmSpec real = VmSpec.of("after-fuzz", 1, 8L << 20, new Workload.PageWalk(0, 0, 4));
            source.define(real);
            source.start(real.id());
            MigrationReport r = out.migrate(real.id(), MigrationRequest.defaults(), in);
            assertTrue(r.succeeded(), "a real migration after the fuzz: " + r.toLogLine());
        } finally {
            source.close();
            target.close();
        }
        assertTrue(refusedClearly > FRAMES / 2, "most inputs must be refused with a named failure: " + refusedClearly);
        assertEquals(0, Summary.RUN.crashCount() - crashesAtStart, "crashes in this suite");
    }

    private static boolean answersAbort(byte[] answer) {
        for (int i = 0; i + 5 <= answer.length; i++) {
            if (ByteBuffer.wrap(answer, i, 5).getInt() == Frames.MAGIC && answer[i + 4] == Frames.ABORT) {
                return true;
            }
        }
        return false;
    }

    /** Writes the input on one connection, closes the sending side, and reads what the target says (bounded). */
    private static byte[] exchange(String host, int port, byte[] input) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 5000);
            s.setSoTimeout(10_000);
            try {
                s.getOutputStream().write(input);
                s.shutdownOutput();
            } catch (IOException refusedMidWay) {
                // the target may close as soon as it saw enough: fine
            }
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            try {
                InputStream in = s.getInputStream();
                byte[] b = new byte[4096];
                int n;
                while ((n = in.read(b)) > 0 && got.size() < 1 << 16) {
                    got.write(b, 0, n);
                }
            } catch (IOException closedOrSilent) {
                // a reset or the timeout: the target said what it had to
            }
            return got.toByteArray();
        }
    }

    /** One hostile connection's bytes. */
    static byte[] frameInput(SplittableRandom rnd, MigrationOffer offer, byte[] token) {
        UUID id = offer.migrationId();
        long mem = offer.spec().memoryBytes();
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        byte[] hello = Frames.hello(2, id, token, 0, 2, mem);
        int kind = rnd.nextInt(8);
        switch (kind) {
            case 0 -> b.writeBytes(randomBytes(rnd, 1 + rnd.nextInt(8192)));
            case 1 -> b.writeBytes(Frames.frame(rnd.nextInt(256), rnd.nextInt(4), rnd.nextInt(4), rnd.nextInt(3), randomBytes(rnd,
                    rnd.nextInt(64)), rnd.nextBoolean() ? rnd.nextLong() & 0xFFFFFFFFL : rnd.nextInt(64)));
            case 2 -> {
                byte[] badToken = token.clone();
                int what = rnd.nextInt(5);
                if (what == 0) {
                    badToken[rnd.nextInt(16)] ^= 1;
                }
                b.writeBytes(Frames.hello(what == 1 ? rnd.nextInt(65536) : 2, what == 2 ? UUID.randomUUID() : id, badToken,
                        what == 3 ? 2 + rnd.nextInt(100) : 0, 2, what == 4 ? mem + 4096 * (1 + rnd.nextInt(100)) : mem));
            }
            default -> {
                b.writeBytes(hello);
                long seq = 1;
                int frames = 1 + rnd.nextInt(4);
                for (int f = 0; f < frames; f++) {
                    b.writeBytes(afterHello(rnd, seq++, mem));
                }
                if (kind == 7) {
                    byte[] all = b.toByteArray(); // cut mid-frame: the connection ends in the middle of a frame
                    return java.util.Arrays.copyOf(all, hello.length + 1 + rnd.nextInt(Math.max(1, all.length - hello.length - 1)));
                }
            }
        }
        return b.toByteArray();
    }

    /** A frame after a genuine HELLO on channel 0 that is wrong in one way, with a CRC that matches. */
    private static byte[] afterHello(SplittableRandom rnd, long seq, long mem) {
        long pages = mem / Frames.PAGE;
        switch (rnd.nextInt(12)) {
            case 0: // a page beyond the guest
                return Frames.frame(Frames.RAM, 0, seq, Frames.rawPages(new long[] {pages + rnd.nextInt(1 << 20)}, (byte) 7));
            case 1: // pages not ascending
                return Frames.frame(Frames.RAM, 0, seq, Frames.zeroPages(new long[] {5, 3}));
            case 2: // a page of channel 1 on channel 0 (1 MiB chunks are dealt round-robin)
                return Frames.frame(Frames.RAM, 0, seq, Frames.rawPages(new long[] {256 + rnd.nextInt(256)}, (byte) 9));
            case 3: { // an unknown codec, a count of 0 or more than a batch
                byte[] p = Frames.zeroPages(new long[] {1});
                p[0] = (byte) (rnd.nextBoolean() ? 0 : 5 + rnd.nextInt(250));
                if (rnd.nextBoolean()) {
                    p[1] = (byte) 0xFF;
                    p[2] = (byte) 0xFF;
                }
                return Frames.frame(Frames.RAM, 0, seq, p);
            }
            case 4: { // LZ4 or XOR-LZ4 with garbage compressed bytes
                ByteBuffer p = ByteBuffer.allocate(3 + 4 + 2 + 64);
                p.put((byte) (rnd.nextBoolean() ? 3 : 4)).putShort((short) 1).putInt(1).putShort((short) 64).put(randomBytes(rnd, 64));
                return Frames.frame(Frames.RAM, 0, seq, p.array());
            }
            case 5: // trailing bytes after the last page
                return Frames.frame(Frames.RAM, 0, seq, ByteBuffer.allocate(3 + 4 + 7).put((byte) 1).putShort((short) 1).putInt(0)
                        .put(randomBytes(rnd, 7)).array());
            case 6: // a SYNC that miscounts, or of a past iteration
                return Frames.frame(Frames.SYNC, 0, seq, Frames.sync(rnd.nextInt(2), rnd.nextBoolean(), 1 + rnd.nextInt(1000)));
            case 7: // a STATE that is not a state
                return Frames.frame(Frames.STATE, 0, seq, randomBytes(rnd, rnd.nextInt(4096)));
            case 8: // DIGEST or DIRTY_MAP out of range
                return Frames.frame(rnd.nextBoolean() ? Frames.DIGEST : Frames.DIRTY_MAP, 0, seq,
                        ByteBuffer.allocate(16).putInt(rnd.nextInt()).putInt(1 + rnd.nextInt(1 << 20)).putLong(rnd.nextLong()).array());
            case 9: // DONE or POSTCOPY before their time
                return Frames.frame(rnd.nextBoolean() ? Frames.DONE : Frames.POSTCOPY, 0, seq, new byte[0]);
            case 10: // an absurd length in the header (refused before anything is allocated)
                return Frames.frame(Frames.RAM, 0, 0, seq, new byte[0], 0x80000000L + (rnd.nextLong() & 0x7FFFFFFFL));
            default: // a skipped sequence number, or another channel's number, or flags
                return Frames.frame(Frames.RAM, rnd.nextInt(2), rnd.nextBoolean() ? 1 : 0, seq + 1 + rnd.nextInt(5),
                        Frames.zeroPages(new long[] {0}), 7);
        }
    }

    static byte[] randomBytes(SplittableRandom rnd, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) rnd.nextInt(256);
        }
        return b;
    }

    // ---- OVF and OVA ----

    /**
     * Valid packages (exported by Ferry, and the shared corpus's descriptors when present) mutated: descriptor
     * text (attribute values made absurd or negative, DOCTYPEs with external entities and entity bombs, deep
     * nesting, truncation, byte flips) and archive structure (members renamed to escape the target with
     * ../ or an absolute path, links, declared sizes far beyond the data, truncation). The importer must
     * throw OvfException, or import; never anything else, never hang, never write outside its target.
     */
    @Test
    void ovfDescriptorsAndOvaArchivesAtTheImporter(@TempDir Path dir) throws Exception {
        SplittableRandom rnd = Chaos.random("ovf");
        List<byte[]> descriptors = new ArrayList<>();
        Path pkg = dir.resolve("pkg");
        Path disk = dir.resolve("d.raw");
        Files.write(disk, randomBytes(rnd, 64 << 10));
        VmSpec vm = new VmSpec(UUID.randomUUID(), "victim", 1, 64L << 20, new Workload.PageWalk(0, 0, 0), null,
                List.of(new DiskSpec("root", disk.toString(), Files.size(disk), "raw", "virtio", false)), List.of(), VmSpec.HaPolicy.NONE,
                "other", Map.of());
        new OvfExporter(new OvfExporter.Options(OvfVersion.V2, OvfExporter.Target.FERRY, null, false, null, List.of()), OvfImporter.Progress.NONE)
                .export(List.of(vm), pkg);
        List<String> members = new ArrayList<>();
        try (Stream<Path> s = Files.list(pkg)) {
            s.map(p -> p.getFileName().toString()).sorted((a, b) -> a.endsWith(".ovf") ? -1 : b.endsWith(".ovf") ? 1 : a.compareTo(b))
                    .forEach(members::add);
        }
        descriptors.add(Files.readAllBytes(pkg.resolve(members.get(0))));
        Path corpus = Path.of(System.getProperty("ferry.shared.dir", "../../shared"), "ovf", "corpus");
        if (Files.isDirectory(corpus)) {
            try (Stream<Path> s = Files.walk(corpus)) {
                s.filter(p -> p.toString().endsWith(".ovf")).sorted().forEach(p -> {
                    try {
                        descriptors.add(Files.readAllBytes(p));
                    } catch (IOException e) {
                        throw new ChaosException("corpus " + p, e);
                    }
                });
            }
        } else {
            Summary.RUN.note("the shared OVF corpus is absent: only Ferry's own export seeds the OVF mutations");
        }
        Path work = Files.createDirectory(dir.resolve("work"));
        ExecutorService one = Executors.newSingleThreadExecutor();
        int refused = 0;
        try {
            for (int i = 0; i < PACKAGES; i++) {
                Path input;
                String what;
                if (rnd.nextInt(3) == 0) {
                    byte[] d = mutateDescriptor(rnd, descriptors.get(rnd.nextInt(descriptors.size())));
                    input = work.resolve("in-" + i + ".ovf");
                    Files.write(input, d);
                    what = "descriptor";
                } else {
                    input = work.resolve("in-" + i + ".ova");
                    Files.write(input, mutateArchive(rnd, pkg, members));
                    what = "archive";
                }
                Path target = work.resolve("out-" + i);
                Set<String> before = listing(dir);
                Future<Object> run = one.submit(() -> new OvfImporter(OvfImporter.Options.DEFAULT, OvfImporter.Progress.NONE)
                        .importPackage(input.toString(), target));
                try {
                    run.get(60, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    if (e.getCause() instanceof OvfException) {
                        refused++;
                    } else {
                        Summary.RUN.crash("OVF " + what + " input " + i + ": " + e.getCause());
                    }
                } catch (TimeoutException e) {
                    run.cancel(true);
                    Summary.RUN.violation("OVF " + what + " input " + i + " was still importing after 60 s");
                    one.shutdownNow();
                    one = Executors.newSingleThreadExecutor();
                }
                Set<String> after = listing(dir);
                after.removeAll(before);
                String own = "work/out-" + i;
                after.removeIf(p -> p.startsWith(own));
                if (!after.isEmpty()) {
                    Summary.RUN.violation("OVF " + what + " input " + i + " wrote outside its target: " + after);
                }
                deleteTree(target);
                Files.deleteIfExists(input);
            }
        } finally {
            one.shutdownNow();
        }
        Summary.RUN.inputs("OVF descriptors and OVA archives", PACKAGES);
        assertTrue(refused > PACKAGES / 3, "most mutations must be refused with OvfException: " + refused);
    }

    /** A handful of the nastiest packages through the packaged CLI: exit status 1 or 2 and one clear line, no stack trace. */
    @Test
    void ovaArchivesThroughTheCli(@TempDir Path dir) throws Exception {
        assumeTrue(Files.exists(Chaos.jar()), "the packaged ferry.jar");
        byte[] descriptor = "<?xml version=\"1.0\"?><!DOCTYPE e [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]><Envelope>&b;</Envelope>"
                .getBytes(StandardCharsets.UTF_8);
        byte[] xxe = ("<?xml version=\"1.0\"?><!DOCTYPE e [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
                + "<Envelope xmlns=\"http://schemas.dmtf.org/ovf/envelope/2\">&x;</Envelope>").getBytes(StandardCharsets.UTF_8);
        Map<String, byte[]> inputs = new java.util.LinkedHashMap<>();
        inputs.put("entity-bomb.ova", tar(List.of(new Member("pkg.ovf", descriptor, null))));
        inputs.put("xxe.ova", tar(List.of(new Member("pkg.ovf", xxe, null))));
        inputs.put("traversal.ova", tar(List.of(new Member("pkg.ovf", xxe, null), new Member("../../escaped", new byte[10], null))));
        inputs.put("truncated.ova", java.util.Arrays.copyOf(tar(List.of(new Member("pkg.ovf", xxe, null))), 700));
        for (Map.Entry<String, byte[]> e : inputs.entrySet()) {
            Path in = dir.resolve(e.getKey());
            Files.write(in, e.getValue());
            Path out = dir.resolve("out-" + e.getKey());
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", Chaos.jar().toString(),
                    "ovf", "import", in.toString(), out.toString()).redirectErrorStream(true).start();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), e.getKey() + ": the CLI did not finish");
            int status = p.exitValue();
            boolean clear = (status == 1 || status == 2) && text.contains("ferry: ") && !text.contains("\tat ") && !Files.exists(out);
            if (!clear) {
                Summary.RUN.violation("ferry ovf import " + e.getKey() + " exited " + status + " with: " + text);
            }
            assertTrue(!Files.exists(dir.resolve("escaped")) && !Files.exists(dir.getParent().resolve("escaped")), "traversal escaped");
        }
        Summary.RUN.inputs("OVA archives through the CLI", inputs.size());
        assertEquals(0, Summary.RUN.violations().stream().filter(v -> v.startsWith("ferry ovf import")).count());
    }

    private static byte[] mutateDescriptor(SplittableRandom rnd, byte[] original) {
        String s = new String(original, StandardCharsets.UTF_8);
        switch (rnd.nextInt(9)) {
            case 0: // XXE
                return s.replaceFirst("(<\\?xml[^>]*\\?>)?", "$1<!DOCTYPE Envelope [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>")
                        .replaceFirst("<ovf:Info>|<Info>", "$0&x;").getBytes(StandardCharsets.UTF_8);
            case 1: { // an entity bomb
                String bomb = "<!DOCTYPE Envelope [<!ENTITY a \"lol\">" + "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
                        + "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">]>";
                return s.replaceFirst("(<\\?xml[^>]*\\?>)?", "$1" + bomb).replaceFirst("<ovf:Info>|<Info>", "$0&d;")
                        .getBytes(StandardCharsets.UTF_8);
            }
            case 2: { // an attribute value made absurd
                String[] absurd = {"-1", "99999999999999999999999", "1e309", "NaN", "", "0x7fffffff", "../../../../etc/passwd", "\u0000"};
                return s.replaceFirst("(ovf:(capacity|size|id|href|fileRef|diskId)=\")[^\"]*\"", "$1" + absurd[rnd.nextInt(absurd.length)]
                        + "\"").getBytes(StandardCharsets.UTF_8);
            }
            case 3: { // an element value made absurd
                String[] absurd = {"-5", "18446744073709551617", "9999999999", "abc", "<![CDATA[x]]>", ""};
                return s.replaceFirst("(<rasd:VirtualQuantity>)[^<]*", "$1" + absurd[rnd.nextInt(absurd.length)])
                        .getBytes(StandardCharsets.UTF_8);
            }
            case 4: { // deep nesting
                StringBuilder deep = new StringBuilder();
                for (int i = 0; i < 5000; i++) {
                    deep.append("<x>");
                }
                return s.replaceFirst("<ovf:Info>|<Info>", deep + "$0").getBytes(StandardCharsets.UTF_8);
            }
            case 5: // truncated
                return java.util.Arrays.copyOf(original, rnd.nextInt(Math.max(1, original.length)));
            case 6: { // an element removed or duplicated
                String[] tags = {"References", "DiskSection", "VirtualSystem", "VirtualHardwareSection", "Item", "File"};
                String t = tags[rnd.nextInt(tags.length)];
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("<(ovf:)?" + t + "[\\s>][\\s\\S]*?</(ovf:)?" + t + ">").matcher(s);
                if (m.find()) {
                    String el = m.group();
                    return (rnd.nextBoolean() ? s.replace(el, "") : s.replace(el, el + el)).getBytes(StandardCharsets.UTF_8);
                }
                return original;
            }
            case 7: { // an external DTD
                return s.replaceFirst("(<\\?xml[^>]*\\?>)?", "$1<!DOCTYPE Envelope SYSTEM \"http://127.0.0.1:9/evil.dtd\">")
                        .getBytes(StandardCharsets.UTF_8);
            }
            default: { // byte flips
                byte[] b = original.clone();
                for (int i = 0, n = 1 + rnd.nextInt(8); i < n && b.length > 0; i++) {
                    b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
                }
                return b;
            }
        }
    }

    /** A tar member: a file, or a link when link is set. */
    private record Member(String name, byte[] data, String link) {}

    private static byte[] mutateArchive(SplittableRandom rnd, Path pkg, List<String> names) throws IOException {
        List<Member> ms = new ArrayList<>();
        for (String n : names) {
            ms.add(new Member(n, Files.readAllBytes(pkg.resolve(n)), null));
        }
        int victim = rnd.nextInt(ms.size());
        switch (rnd.nextInt(7)) {
            case 0 -> ms.set(victim, new Member(List.of("../../escaped", "/tmp/ferry-chaos-escaped", "a/../../escaped", "..")
                    .get(rnd.nextInt(4)), ms.get(victim).data(), null));
            case 1 -> ms.set(victim, new Member(ms.get(victim).name(), new byte[0], rnd.nextBoolean() ? "/etc/passwd" : "../../x"));
            case 2 -> ms.set(0, new Member(ms.get(0).name(), mutateDescriptor(rnd, ms.get(0).data()), null));
            case 3 -> ms.add(0, ms.remove(ms.size() - 1)); // the descriptor not first
            case 4 -> ms.add(ms.get(victim)); // a member twice
            default -> {
                byte[] all = tar(ms);
                if (rnd.nextBoolean()) {
                    return java.util.Arrays.copyOf(all, rnd.nextInt(all.length)); // truncated
                }
                for (int i = 0, n = 1 + rnd.nextInt(6); i < n; i++) {
                    all[rnd.nextInt(Math.min(all.length, 4096))] = (byte) rnd.nextInt(256); // headers: names, sizes, checksums
                }
                return all;
            }
        }
        return tar(ms);
    }

    private static byte[] tar(List<Member> members) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(out, 512)) {
            t.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (Member m : members) {
                TarArchiveEntry e = m.link() == null ? new TarArchiveEntry(m.name(), true)
                        : new TarArchiveEntry(m.name(), TarArchiveEntry.LF_SYMLINK, true);
                if (m.link() != null) {
                    e.setLinkName(m.link());
                } else {
                    e.setSize(m.data().length);
                }
                t.putArchiveEntry(e);
                if (m.link() == null) {
                    t.write(m.data());
                }
                t.closeArchiveEntry();
            }
        }
        return out.toByteArray();
    }

    private static Set<String> listing(Path root) throws IOException {
        Set<String> out = new TreeSet<>();
        try (Stream<Path> s = Files.walk(root)) {
            s.forEach(p -> out.add(root.relativize(p).toString()));
        }
        Path escaped = Path.of("/tmp/ferry-chaos-escaped");
        if (Files.exists(escaped)) {
            out.add(escaped.toString());
        }
        return out;
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(x);
            }
        }
    }

    // ---- the REST API ----

    /**
     * Requests at a running node of the shared cluster: every route with wrong methods, names and ids that
     * exist nowhere (traversal, absurd lengths, encodings), bodies mutated from valid VM and migration
     * definitions (types, sizes, missing and unknown fields, deep nesting, a body over the limit, not JSON),
     * wrong or missing content types, and malformed HTTP on a raw socket. No 500 ever; a 4xx says what was
     * wrong in JSON; the node keeps serving; the cluster's VMs are the same before and after (a mutation
     * that happened to be a valid VM is counted and removed).
     */
    @Test
    void requestsAtARunningNode() throws Exception {
        ChaosCluster cluster = ChaosCluster.shared();
        SplittableRandom rnd = Chaos.random("rest");
        Node node = cluster.nodes.get(rnd.nextInt(cluster.nodes.size()));
        Set<String> before = vmIds(node);
        int created = 0;
        int byHttpLayer = 0;
        for (int i = 0; i < REQUESTS; i++) {
            if (rnd.nextInt(10) == 0) {
                rawHttp(node, rnd, i);
                continue;
            }
            String[] req = request(rnd, i);
            String shown = req[1].length() > 120 ? req[1].substring(0, 120) + "... (" + req[1].length() + " chars)" : req[1];
            Api.Response r;
            try {
                r = call(node, req[0], req[1], req[2], req[3]);
            } catch (ChaosException e) {
                Summary.RUN.violation("REST input " + i + " (" + req[0] + " " + shown + ") got no answer: " + e.getMessage());
                continue;
            }
            if (r.status() >= 500) {
                Summary.RUN.crash("REST input " + i + " " + req[0] + " " + shown + " -> " + r.status() + " " + r.raw());
            } else if (HTTP_LAYER_REFUSALS.contains(r.status()) && (r.body() == null || !r.body().has("code"))) {
                // refused by the HTTP server before any route saw it (URI or headers too long, a malformed
                // request line): a clear status and a plain-text reason, never reaching the API
                byHttpLayer++;
            } else if (r.status() >= 400 && !req[0].equals("HEAD") && (r.body() == null || !r.body().has("code") || !r.body().has("message"))) {
                Summary.RUN.violation("REST input " + i + " " + req[0] + " " + shown + " -> " + r.status() + " without a JSON error: " + r.raw());
            } else if (r.ok() && req[0].equals("POST") && req[1].startsWith("/api/vms?")) {
                created++;
            }
            if (i % 50 == 49) {
                assertEquals(200, node.api.call("GET", "/api/hosts", null).status(), "the node keeps serving after input " + i);
            }
        }
        // what the fuzz defined by luck goes; then the cluster is as before
        for (JsonNode v : node.api.get("/api/vms")) {
            if (!before.contains(v.get("spec").get("id").asText())) {
                String id = v.get("spec").get("id").asText();
                node.api.call("POST", "/api/vms/" + id + "/stop", null);
                node.api.call("DELETE", "/api/vms/" + id, null);
            }
        }
        for (Node n : cluster.nodes) {
            cluster.arm(n, ""); // should a mutation ever have armed a real failpoint
            assertTrue(n.alive(), n + " still runs");
        }
        Summary.RUN.inputs("REST requests", REQUESTS);
        Summary.RUN.note(byHttpLayer + " REST requests were refused by the HTTP layer itself (400/413/414/431, plain text)");
        assertEquals(before, vmIds(node), "the cluster's VMs after the fuzz (" + created + " valid by chance, removed)");
        assertEquals(0, Summary.RUN.crashCount() - crashesAtStart, "crashes in this suite");
    }

    /** Statuses Pekko HTTP answers itself, before routing, to requests it cannot parse within its limits. */
    static final Set<Integer> HTTP_LAYER_REFUSALS = Set.of(400, 413, 414, 431);

    private static Set<String> vmIds(Node n) {
        Set<String> ids = new TreeSet<>();
        n.api.get("/api/vms").forEach(v -> ids.add(v.get("spec").get("id").asText()));
        return ids;
    }

    /**
     * The path as the wire carries it: what a URI cannot hold (spaces, quotes, non-ASCII, a stray '%') is
     * percent-encoded, so the hostile path reaches the server instead of failing in the client.
     */
    static String uriSafe(String path) {
        StringBuilder b = new StringBuilder();
        byte[] bytes = path.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        for (int i = 0; i < bytes.length; i++) {
            int c = bytes[i] & 0xFF;
            boolean escapeOk = c == '%' && i + 2 < bytes.length && isHex(bytes[i + 1]) && isHex(bytes[i + 2]);
            if (c > 0x20 && c < 0x7F && "\"<>\\^`{|} ".indexOf(c) < 0 && (c != '%' || escapeOk)) {
                b.append((char) c);
            } else {
                b.append('%').append(String.format("%02X", c));
            }
        }
        return b.toString();
    }

    private static boolean isHex(byte c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    private static Api.Response call(Node n, String method, String path, String contentType, String body) {
        java.net.http.HttpRequest.Builder b = java.net.http.HttpRequest.newBuilder(java.net.URI.create(n.api.base() + uriSafe(path)))
                .timeout(Duration.ofSeconds(30));
        if (contentType != null) {
            // what java.net.http cannot send (edge blanks, control characters) goes as the nearest value it can;
            // raw bytes on the socket are rawHttp's part
            try {
                b.header("Content-Type", contentType.strip().replaceAll("[\\x00-\\x1f\\x7f]", "?"));
            } catch (IllegalArgumentException unsendable) {
                b.header("Content-Type", "application/x-unsendable"); // still a content type the API does not take
            }
        }
        b.method(method, body == null ? java.net.http.HttpRequest.BodyPublishers.noBody()
                : java.net.http.HttpRequest.BodyPublishers.ofString(body));
        try {
            java.net.http.HttpResponse<String> r = HTTP.send(b.build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            JsonNode j;
            try {
                j = r.body().isBlank() ? null : Api.JSON.readTree(r.body());
            } catch (IOException notJson) {
                j = null;
            }
            return new Api.Response(r.statusCode(), j, r.body());
        } catch (IOException e) {
            throw new ChaosException(e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ChaosException("interrupted", e);
        }
    }

    private static final java.net.http.HttpClient HTTP = java.net.http.HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

    /** {method, path, content type, body}: never names an existing VM or host, so a valid request changes nothing it should not. */
    static String[] request(SplittableRandom rnd, int i) {
        String[] methods = {"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"};
        String[] names = {UUID.randomUUID().toString(), "fz-missing-" + i, "..", "../../etc/passwd", "%2e%2e%2f%2e%2e", "a".repeat(5000),
                "%00", "%ff%fe", "x;rm -rf /", "\u00e9\u00e8", "*", "host1%20", "-1", "0"};
        String name = names[rnd.nextInt(names.length)];
        String[] actions = {"start", "pause", "resume", "stop", "check", "evacuate", "frobnicate", ""};
        String method = methods[rnd.nextInt(methods.length)];
        String path = switch (rnd.nextInt(10)) {
            case 0 -> "/api/hosts/" + name + (rnd.nextBoolean() ? "/evacuate" : "");
            case 1 -> "/api/vms/" + name + "/" + actions[rnd.nextInt(actions.length)];
            case 2 -> "/api/vms/" + name;
            case 3 -> "/api/migrations/" + name;
            case 4 -> "/api/migrations";
            case 5 -> "/api/node/failpoints";
            case 6 -> "/" + name + "/" + name;
            case 7 -> "/api/vms?start=" + (rnd.nextBoolean() ? "true" : name) + "&host=" + name;
            default -> "/api/vms?start=" + rnd.nextBoolean();
        };
        if (path.startsWith("/api/vms?")) {
            method = "POST";
        }
        if (path.equals("/api/migrations") && rnd.nextBoolean()) {
            method = "POST";
        }
        String body = null;
        if (method.equals("POST") || method.equals("PUT") || method.equals("PATCH")) {
            body = path.startsWith("/api/vms") ? vmBody(rnd, i) : path.startsWith("/api/migrations") ? migrationBody(rnd, name)
                    : path.endsWith("failpoints") ? "nowhere=" + name + ",x" : vmBody(rnd, i);
        }
        String[] types = {"application/json", "text/plain", "application/xml", "garbage/\u0000", null, "application/json; charset=latin1"};
        return new String[] {method, path, types[rnd.nextInt(types.length)], body};
    }

    static String vmBody(SplittableRandom rnd, int i) {
        String good = "{\"name\":\"fz-" + i + "\",\"vcpus\":1,\"memory\":\"4M\",\"workload\":{\"program\":\"idle\"}}";
        switch (rnd.nextInt(12)) {
            case 0:
                return good.replace("\"vcpus\":1", "\"vcpus\":" + List.of("-1", "0", "2147483647", "1.5", "\"one\"", "null", "[]").get(rnd.nextInt(7)));
            case 1:
                return good.replace("\"4M\"", List.of("\"9999999999999T\"", "\"-4M\"", "\"0\"", "\"1e309\"", "4", "\"\"", "\"4Q\"",
                        "\"18446744073709551616\"").get(rnd.nextInt(8)));
            case 2:
                return good.replace("\"fz-" + i + "\"", List.of("\"../../etc/passwd\"", "\"\"", "\"a/b\"", "null", "\"" + "n".repeat(300) + "\"",
                        "\"\\u0000\"", "1").get(rnd.nextInt(7)));
            case 3:
                return good.replace("\"idle\"", List.of("\"rm\"", "\"pagewalk\",\"length\":-1", "\"random\",\"dirtyRateMiBps\":1e300",
                        "\"hotset\",\"zipfExponent\":\"NaN\"", "null").get(rnd.nextInt(5)));
            case 4:
                return "[".repeat(20_000) + "]".repeat(20_000); // deep nesting
            case 5:
                return "{\"name\":\"" + "x".repeat(2 << 20) + "\"}"; // over the body limit
            case 6:
                return good.substring(0, rnd.nextInt(good.length())); // truncated
            case 7:
                return good.replace("}", ",\"unknown\":{\"a\":1}}");
            case 8:
                return good.replace("{", "{\"name\":\"dup\",");
            case 9:
                return "not json at all \u0000\u00ff";
            case 10:
                return good.replace("\"workload\"", "\"ha\":\"SOMETIMES\",\"workload\"");
            default: {
                byte[] b = good.getBytes(StandardCharsets.UTF_8);
                b[rnd.nextInt(b.length)] = (byte) (32 + rnd.nextInt(95));
                return new String(b, StandardCharsets.UTF_8);
            }
        }
    }

    static String migrationBody(SplittableRandom rnd, String name) {
        return switch (rnd.nextInt(5)) {
            case 0 -> "{\"vm\":\"" + name + "\"}";
            case 1 -> "{\"vm\":\"" + name + "\",\"to\":\"" + name + "\",\"options\":{\"channels\":" + (rnd.nextBoolean() ? 0 : 99) + "}}";
            case 2 -> "{\"vm\":null,\"to\":[]}";
            case 3 -> "{\"vm\":\"" + name + "\",\"options\":{\"downtimeLimitMs\":-5,\"bandwidthMiBps\":\"NaN\",\"compression\":\"zip\"}}";
            default -> "{}";
        };
    }

    /** Malformed HTTP on a raw socket: the node answers (a 4xx) or closes, and keeps serving. */
    private static void rawHttp(Node n, SplittableRandom rnd, int i) {
        String[] reqs = {
            "POST /api/vms HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\nContent-Type: application/json\r\n\r\n{",
            "GET /api/hosts HTTP/1.1\r\nHost: x\r\nX-Long: " + "h".repeat(70_000) + "\r\n\r\n",
            "POST /api/vms HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nZZZ\r\nabc\r\n0\r\n\r\n",
            "GET /" + "a/".repeat(10_000) + " HTTP/1.1\r\nHost: x\r\n\r\n",
            "\u0000\u0001\u0002 garbage\r\n\r\n",
            "GET /api/hosts HTTP/9.9\r\n\r\n",
            "POST /api/vms HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        };
        String r = reqs[rnd.nextInt(reqs.length)];
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(n.address, n.apiPort), 3000);
            s.setSoTimeout(15_000);
            OutputStream o = s.getOutputStream();
            o.write(r.getBytes(StandardCharsets.ISO_8859_1));
            o.flush();
            byte[] head = s.getInputStream().readNBytes(12);
            String status = new String(head, StandardCharsets.ISO_8859_1);
            // 501 (a method no server knows) and 505 (an HTTP version it does not speak) are HTTP's own refusals
            if (status.startsWith("HTTP/1.1 5") && !status.startsWith("HTTP/1.1 501") && !status.startsWith("HTTP/1.1 505")) {
                Summary.RUN.crash("raw HTTP input " + i + " -> " + status);
            }
        } catch (IOException closed) {
            // a connection closed on garbage is a clear refusal
        }
    }

    // ---- CIM-XML ----

    static final int CIM_REQUESTS = Chaos.SOAK ? 3000 : 300;

    /**
     * CIM-XML at a running node's CIM server (host1 of the shared cluster): mutated valid requests, XXE and
     * entity bombs, absurd lengths and nesting, missing or wrong headers and authorization, a malformed
     * embedded instance in DefineSystem. Each is answered with a CIM error or a 4xx, never a 5xx, no file's
     * content ever comes back, the node keeps serving and no VM appears or disappears.
     */
    @Test
    void cimXmlAtARunningNode() {
        ChaosCluster cluster = ChaosCluster.shared();
        assumeTrue(cluster.cimPort > 0, "the shared cluster serves no CIM");
        Node node = cluster.nodes.get(0);
        Set<String> before = vmIds(node);
        String url = "http://" + node.address + ":" + cluster.cimPort + "/cimom";
        String auth = "Basic " + java.util.Base64.getEncoder().encodeToString(
                (ChaosCluster.CIM_USER + ":" + ChaosCluster.CIM_PASSWORD).getBytes(StandardCharsets.UTF_8));
        // a valid request first: the server is there and the credentials work
        CimAnswer ok = cim(url, auth, "EnumerateInstanceNames", cimIntrinsic("EnumerateInstanceNames",
                "<IPARAMVALUE NAME=\"ClassName\"><CLASSNAME NAME=\"CIM_ComputerSystem\"/></IPARAMVALUE>"), true);
        assertEquals(200, ok.status(), "a valid EnumerateInstanceNames: " + ok.body());
        List<String> corpus = List.of(
                cimIntrinsic("EnumerateInstanceNames", "<IPARAMVALUE NAME=\"ClassName\"><CLASSNAME NAME=\"CIM_ComputerSystem\"/></IPARAMVALUE>"),
                cimIntrinsic("EnumerateInstances", "<IPARAMVALUE NAME=\"ClassName\"><CLASSNAME NAME=\"CIM_ComputerSystem\"/></IPARAMVALUE>"
                        + "<IPARAMVALUE NAME=\"DeepInheritance\"><VALUE>FALSE</VALUE></IPARAMVALUE>"),
                cimIntrinsic("GetClass", "<IPARAMVALUE NAME=\"ClassName\"><CLASSNAME NAME=\"CIM_ComputerSystem\"/></IPARAMVALUE>"),
                cimIntrinsic("ExecQuery", "<IPARAMVALUE NAME=\"QueryLanguage\"><VALUE>WQL</VALUE></IPARAMVALUE>"
                        + "<IPARAMVALUE NAME=\"Query\"><VALUE>SELECT * FROM CIM_ComputerSystem WHERE Name = 'x'</VALUE></IPARAMVALUE>"),
                // DefineSystem with an embedded instance that is not one: must be refused, nothing defined
                cimEnvelope("<METHODCALL NAME=\"DefineSystem\"><LOCALCLASSPATH>" + lnp() + "<CLASSNAME NAME=\"Ferry_VirtualSystemManagementService\"/>"
                        + "</LOCALCLASSPATH><PARAMVALUE NAME=\"SystemSettings\" PARAMTYPE=\"string\" EmbeddedObject=\"instance\"><VALUE>"
                        + "&lt;INSTANCE CLASSNAME=&quot;Ferry_VirtualSystemSettingData&quot;&gt;&lt;PROPERTY NAME=&quot;ElementName&quot;"
                        + "&lt;/INSTANCE&gt;</VALUE></PARAMVALUE></METHODCALL>"));
        List<String> planted = List.of(
                "<?xml version=\"1.0\"?><!DOCTYPE CIM [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\">"
                        + "<MESSAGE ID=\"1\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"GetClass\">" + lnp()
                        + "<IPARAMVALUE NAME=\"ClassName\"><CLASSNAME NAME=\"&x;\"/></IPARAMVALUE></IMETHODCALL></SIMPLEREQ></MESSAGE></CIM>",
                "<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
                        + "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">"
                        + "<!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\"><!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">]><CIM>&f;</CIM>",
                cimIntrinsic("GetClass", "<IPARAMVALUE NAME=\"ClassName\"><CLASSNAME NAME=\"" + "A".repeat(1 << 20) + "\"/></IPARAMVALUE>"),
                cimEnvelope("<IMETHODCALL NAME=\"GetClass\">" + lnp() + "<IPARAMVALUE NAME=\"x\">".repeat(5000) + "</IMETHODCALL>"),
                cimEnvelope(""), "", "<CIM", "\u0000\uFFFE<CIM/>");
        SplittableRandom rnd = Chaos.random("cim-xml");
        int tried = 0;
        for (String p : planted) {
            check(cim(url, auth, "GetClass", p, true), "planted input " + tried);
            tried++;
        }
        // headers and authorization: none, wrong, a user that does not exist
        String valid = corpus.get(0);
        check(cim(url, null, "EnumerateInstanceNames", valid, true), "no authorization");
        check(cim(url, "Basic " + java.util.Base64.getEncoder().encodeToString("admin:wrong".getBytes(StandardCharsets.UTF_8)),
                "EnumerateInstanceNames", valid, true), "a wrong password");
        check(cim(url, auth, "EnumerateInstanceNames", valid, false), "no CIMOperation headers");
        tried += 3;
        while (tried < CIM_REQUESTS) {
            String base = corpus.get(rnd.nextInt(corpus.size()));
            String m = mutateXml(base, rnd);
            check(cim(url, auth, "EnumerateInstanceNames", m, rnd.nextInt(10) != 0), "mutant " + tried);
            tried++;
        }
        assertTrue(node.alive(), node + " still runs");
        assertEquals(200, cim(url, auth, "EnumerateInstanceNames", valid, true).status(), "the CIM server still serves");
        Summary.RUN.inputs("CIM-XML requests", tried);
        assertEquals(before, vmIds(node), "the cluster's VMs after the CIM fuzz");
        assertEquals(0, Summary.RUN.crashCount() - crashesAtStart, "crashes in this suite");
    }

    record CimAnswer(int status, String body) {}

    private static void check(CimAnswer a, String what) {
        // 501 with a CIMError header is DSP0200's answer to an unsupported CIM or protocol version: a refusal
        if (a.status() >= 500 && a.status() != 501) {
            Summary.RUN.crash("CIM-XML " + what + " -> HTTP " + a.status() + ": " + a.body().substring(0, Math.min(200, a.body().length())));
        }
        if (a.body().contains("root:x:0:0")) {
            Summary.RUN.violation("CIM-XML " + what + ": the answer carries /etc/passwd (XXE)");
        }
    }

    private static String lnp() {
        return "<LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"/><NAMESPACE NAME=\"virtualization\"/></LOCALNAMESPACEPATH>";
    }

    private static String cimEnvelope(String call) {
        return "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE ID=\"1001\" "
                + "PROTOCOLVERSION=\"1.0\"><SIMPLEREQ>" + call + "</SIMPLEREQ></MESSAGE></CIM>";
    }

    private static String cimIntrinsic(String method, String params) {
        return cimEnvelope("<IMETHODCALL NAME=\"" + method + "\">" + lnp() + params + "</IMETHODCALL>");
    }

    /** One seeded mutation of an XML text: a flipped character, a cut, a duplicated or dropped span, a planted token. */
    static String mutateXml(String s, SplittableRandom rnd) {
        if (s.isEmpty()) {
            return "<";
        }
        int i = rnd.nextInt(s.length());
        int j = Math.min(s.length(), i + 1 + rnd.nextInt(64));
        String[] tokens = {"<", ">", "\"", "&", "&amp;", "&#0;", "]]>", "<!--", "<?xml version=\"1.0\"?>", "</CIM>", "<VALUE>",
            "\u0000", "\uD800", "9".repeat(40), "-1", "<INSTANCE CLASSNAME=\"\">", "&lt;INSTANCE&gt;"};
        return switch (rnd.nextInt(5)) {
            case 0 -> s.substring(0, i) + (char) rnd.nextInt(0x20, 0x7F) + s.substring(i + 1);
            case 1 -> s.substring(0, i);
            case 2 -> s.substring(0, j) + s.substring(i);
            case 3 -> s.substring(0, i) + s.substring(j);
            default -> s.substring(0, i) + tokens[rnd.nextInt(tokens.length)] + s.substring(i);
        };
    }

    private static CimAnswer cim(String url, String authorization, String method, String body, boolean cimHeaders) {
        java.net.http.HttpRequest.Builder b = java.net.http.HttpRequest.newBuilder(java.net.URI.create(url)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/xml; charset=\"utf-8\"")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        if (cimHeaders) {
            b.header("CIMOperation", "MethodCall").header("CIMMethod", method).header("CIMObject", "root%2Fvirtualization");
        }
        try {
            java.net.http.HttpResponse<String> r = HTTP.send(b.build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            return new CimAnswer(r.statusCode(), r.body());
        } catch (IOException e) {
            return new CimAnswer(0, "connection closed: " + e.getMessage()); // a closed connection is a refusal
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ChaosException("interrupted", e);
        }
    }
}
