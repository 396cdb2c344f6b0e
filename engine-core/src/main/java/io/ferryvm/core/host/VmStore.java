package io.ferryvm.core.host;

import io.ferryvm.core.CoreException;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmSpecJson;
import io.ferryvm.core.VmStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host's VM definitions in its state directory: one JSON file per VM ({@code vms/<uuid>.json}),
 * replaced atomically, so a restarted host knows every VM it had and a crash never leaves a torn file.
 */
public final class VmStore {
    private static final Logger LOG = LoggerFactory.getLogger(VmStore.class);

    /** What is kept per VM: its definition and the last status it was in. */
    public record Entry(VmSpec spec, VmStatus status) {}

    private final Path dir;

    public VmStore(Path stateDir) {
        this.dir = stateDir.resolve("vms");
        try {
            Files.createDirectories(dir);
            if (!Files.isWritable(dir)) {
                throw new CoreException(CoreException.Kind.IO, "state directory " + dir + " is not writable");
            }
        } catch (IOException e) {
            throw new CoreException(CoreException.Kind.IO, "cannot create state directory " + dir + ": " + e, e);
        }
    }

    public Path directory() {
        return dir;
    }

    public void put(VmSpec spec, VmStatus status) {
        AtomicFiles.write(file(spec.id()), VmSpecJson.toJson(new Entry(spec, status)));
    }

    public void remove(UUID id) {
        AtomicFiles.delete(file(id));
    }

    Path file(UUID id) {
        return dir.resolve(id + ".json");
    }

    /**
     * Every stored definition. Temp files of an interrupted write are swept; a file that does not parse
     * (written by hand, or a disk error) is reported and skipped, never deleted.
     */
    public List<Entry> loadAll() {
        List<Entry> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.sorted().toList()) {
                if (AtomicFiles.isTemp(p)) {
                    Files.deleteIfExists(p);
                    continue;
                }
                if (!p.getFileName().toString().endsWith(".json")) {
                    continue;
                }
                try {
                    Entry e = VmSpecJson.read(Files.readAllBytes(p), Entry.class, p.toString(), false);
                    if (!p.getFileName().toString().equals(e.spec().id() + ".json")) {
                        throw new CoreException(CoreException.Kind.CORRUPT_STATE, p + " holds VM " + e.spec().id());
                    }
                    out.add(e);
                } catch (CoreException e) {
                    LOG.error("skipping VM definition {}: {}", p, e.getMessage());
                }
            }
        } catch (IOException e) {
            throw new CoreException(CoreException.Kind.IO, "cannot read state directory " + dir + ": " + e, e);
        }
        return out;
    }
}
