package io.ferryvm.ovf;

import static org.junit.jupiter.api.Assertions.fail;

import io.ferryvm.core.VmSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Seeded corruption of descriptors: bytes flipped, ranges cut or repeated, attributes blanked. Reading,
 * validating, mapping and writing either succeed or fail with an OvfException; never with another
 * exception (a NullPointerException would be a bug an attacker could aim at).
 */
class DescriptorCorruptionTest {
    @TempDir
    static Path dir;
    static byte[] exported;
    static final java.util.concurrent.atomic.AtomicInteger parsed = new java.util.concurrent.atomic.AtomicInteger();
    static final java.util.concurrent.atomic.AtomicInteger mapped = new java.util.concurrent.atomic.AtomicInteger();

    /** The mutations must reach past the XML parser, or this suite would test nothing. */
    @org.junit.jupiter.api.AfterAll
    static void mutationsReachTheModel() {
        org.junit.jupiter.api.Assertions.assertTrue(parsed.get() >= 60, parsed + " of 300 mutated descriptors parsed");
        org.junit.jupiter.api.Assertions.assertTrue(mapped.get() >= 20, mapped + " of 300 mutated descriptors reached the mapping");
    }

    @BeforeAll
    static void export() throws Exception {
        VmSpec vm = Packages.vm(dir, "fuzz");
        Path folder = dir.resolve("pkg");
        new OvfExporter(new OvfExporter.Options(OvfVersion.V2, OvfExporter.Target.VMWARE, null, false, null, List.of()), OvfImporter.Progress.NONE)
                .export(List.of(vm), folder);
        exported = Files.readAllBytes(folder.resolve("pkg.ovf"));
    }

    static java.util.stream.LongStream seeds() {
        return java.util.stream.LongStream.rangeClosed(1, 300);
    }

    @ParameterizedTest
    @MethodSource("seeds")
    void corruptedDescriptorsFailOnlyWithOvfException(long seed) {
        Random r = new Random(seed);
        byte[] base = exported;
        String sd = System.getProperty("ferry.shared.dir");
        if (sd != null && seed % 3 == 0 && Files.isDirectory(Path.of(sd, "ovf/corpus"))) {
            List<String> all = Shared.descriptors();
            base = Shared.read(all.get(r.nextInt(all.size())));
        }
        byte[] b = mutate(base, r);
        try {
            EnvelopeReader.Result res = EnvelopeReader.read(b, "fuzz-" + seed + ".ovf");
            parsed.incrementAndGet();
            List<Finding> f = EnvelopeValidator.validate(res.envelope());
            EnvelopeWriter.write(res.envelope());
            if (f.stream().noneMatch(Finding::isError)) {
                mapped.incrementAndGet();
                VmSpecMapper.toVmSpecs(res.envelope(), VmSpecMapper.Options.DEFAULT);
            }
        } catch (OvfException expected) {
            // refused with a message: fine
        } catch (RuntimeException e) {
            fail("seed " + seed + ": " + e + "\n" + new String(b, StandardCharsets.UTF_8).substring(0, Math.min(b.length, 400)), e);
        }
    }

    private static byte[] mutate(byte[] in, Random r) {
        String s = new String(in, StandardCharsets.UTF_8);
        for (int k = 0; k < 1 + r.nextInt(4); k++) {
            int at = r.nextInt(Math.max(1, s.length()));
            switch (r.nextInt(6)) {
                case 0 -> s = s.substring(0, at) + (char) (32 + r.nextInt(90)) + s.substring(Math.min(s.length(), at + 1));
                case 1 -> s = s.substring(0, at) + s.substring(Math.min(s.length(), at + 1 + r.nextInt(200)));
                case 2 -> {
                    int end = Math.min(s.length(), at + r.nextInt(300));
                    s = s.substring(0, end) + s.substring(at, end) + s.substring(end);
                }
                case 3 -> s = s.replaceFirst("ovf:(id|diskId|fileRef|href|capacity|key|name)=\"[^\"]*\"", "");
                case 4 -> s = s.replaceFirst("<rasd:(InstanceID|ResourceType|VirtualQuantity|HostResource|Parent)>[^<]*<",
                        "<rasd:$1>" + List.of("", "-1", "99999999999999999999", "ovf:/disk/", "x").get(r.nextInt(5)) + "<");
                default -> s = s.replaceFirst("=\"[0-9]+\"", "=\"" + List.of("", "-5", "1e9", "18446744073709551616").get(r.nextInt(4)) + "\"");
            }
        }
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
