package io.ferryvm.migration;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.ferryvm.core.CoreException;
import io.ferryvm.core.Host;
import io.ferryvm.core.VmSpecJson;
import io.ferryvm.core.host.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Each side's durable record of where its migrations stand: one small JSON file per migration and role
 * in the host's state directory, replaced atomically (temp file, fsync, rename) at every phase change.
 * After a crash the two entries decide where the guest lives ({@link #decide}).
 */
public final class MigrationJournal {
    public enum Role { SOURCE, TARGET }

    /** Where the guest belongs after both sides' journals are read. */
    public enum Verdict {
        /** The target finished (or the source confirmed): the guest runs on the target; the source must never resume it. */
        ON_TARGET,
        /** The target never finished: the source's copy is the guest (resume it, or restart it if its host died). */
        ON_SOURCE,
        /** Post-copy started and did not finish: neither side holds all of the guest's memory. */
        LOST,
        /** Neither side knows this migration. */
        UNKNOWN
    }

    public record Entry(UUID migrationId, UUID vm, String vmName, Role role, MigrationPhase phase, String peer, long atMillis,
            String detail) {
        public Entry {
            Objects.requireNonNull(migrationId, "migrationId");
            Objects.requireNonNull(vm, "vm");
            Objects.requireNonNull(role, "role");
            Objects.requireNonNull(phase, "phase");
            vmName = vmName == null ? "" : vmName;
            peer = peer == null ? "" : peer;
            detail = detail == null ? "" : detail;
        }
    }

    private static final ObjectMapper JSON = VmSpecJson.mapper(false);
    private final Path dir;

    public MigrationJournal(Path dir) {
        this.dir = dir;
    }

    public static MigrationJournal of(Host host) {
        return new MigrationJournal(host.config().stateDir().resolve("migrations"));
    }

    public Path directory() {
        return dir;
    }

    /** Durable before it returns; a state directory that refuses throws CoreException IO. */
    public void record(Entry e) {
        try {
            Files.createDirectories(dir);
        } catch (IOException x) {
            throw new CoreException(CoreException.Kind.IO, "cannot create migration journal " + dir + ": " + x.getMessage(), x);
        }
        AtomicFiles.write(file(e.migrationId(), e.role()), VmSpecJson.toJson(e));
    }

    public Optional<Entry> read(UUID migrationId, Role role) {
        Path f = file(migrationId, role);
        if (!Files.exists(f)) {
            return Optional.empty();
        }
        try {
            return Optional.of(VmSpecJson.read(Files.readAllBytes(f), Entry.class, "migration journal " + f, false));
        } catch (IOException x) {
            throw new CoreException(CoreException.Kind.IO, "cannot read migration journal " + f + ": " + x.getMessage(), x);
        }
    }

    /** Every entry of this host, for recovery after a restart. */
    public List<Entry> entries() {
        List<Entry> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(p -> p.getFileName().toString().endsWith(".json") && !AtomicFiles.isTemp(p)).sorted().toList()) {
                out.add(VmSpecJson.read(Files.readAllBytes(p), Entry.class, "migration journal " + p, false));
            }
        } catch (IOException x) {
            throw new CoreException(CoreException.Kind.IO, "cannot list migration journal " + dir + ": " + x.getMessage(), x);
        }
        return out;
    }

    private Path file(UUID id, Role role) {
        return dir.resolve(id + "-" + role.name().toLowerCase() + ".json");
    }

    /**
     * The rule that makes a crash decidable. The target's FINISHED is written before its guest resumes,
     * and the source resumes only while the target has not finished, so:
     * <pre>
     *   target FINISHED, or source CONFIRMED             -> ON_TARGET
     *   either side in POSTCOPY or GUEST_LOST (no finish) -> LOST
     *   anything else known                                -> ON_SOURCE
     * </pre>
     */
    public static Verdict decide(Optional<Entry> source, Optional<Entry> target) {
        if (source.isEmpty() && target.isEmpty()) {
            return Verdict.UNKNOWN;
        }
        MigrationPhase s = source.map(Entry::phase).orElse(null);
        MigrationPhase t = target.map(Entry::phase).orElse(null);
        if (t == MigrationPhase.FINISHED || s == MigrationPhase.CONFIRMED) {
            return Verdict.ON_TARGET;
        }
        if (s == MigrationPhase.POSTCOPY || t == MigrationPhase.POSTCOPY || s == MigrationPhase.GUEST_LOST
                || t == MigrationPhase.GUEST_LOST) {
            return Verdict.LOST;
        }
        return Verdict.ON_SOURCE;
    }
}
