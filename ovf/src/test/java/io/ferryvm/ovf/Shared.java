package io.ferryvm.ovf;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** The shared research folder (system property ferry.shared.dir): tests that need it are skipped, with the reason, without it. */
final class Shared {
    private Shared() {}

    static Path dir() {
        String d = System.getProperty("ferry.shared.dir");
        assumeTrue(d != null && Files.isDirectory(Path.of(d, "ovf", "corpus")),
                "the shared OVF corpus is absent (system property ferry.shared.dir=" + d + "): corpus tests skipped");
        return Path.of(d);
    }

    static Path corpus() {
        return dir().resolve("ovf/corpus");
    }

    static Path schemas() {
        return dir().resolve("ovf/schemas");
    }

    /** Every descriptor of the corpus (not the ovf-env document), relative names like "vmware/properties.ovf". */
    static List<String> descriptors() {
        Path c = corpus();
        try (Stream<Path> s = Files.walk(c)) {
            return s.filter(Files::isRegularFile)
                    .filter(p -> p.toString().toLowerCase(java.util.Locale.ROOT).endsWith(".ovf"))
                    .map(p -> c.relativize(p).toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] read(String rel) {
        try {
            return Files.readAllBytes(corpus().resolve(rel));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
