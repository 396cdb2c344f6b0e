package io.ferryvm.ovf;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * A temporary folder beside the target that becomes the target with one atomic rename, or disappears.
 * Nothing is written to the target's own path before the commit, so a failure at any byte leaves nothing
 * behind and changes nothing that existed.
 */
final class Staging implements AutoCloseable {
    private final Path target;
    private final Path dir;
    private boolean committed;

    Staging(Path target) throws IOException {
        this.target = target.toAbsolutePath().normalize();
        if (Files.exists(this.target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw new OvfException(OvfException.Kind.IO, this.target + " already exists: Ferry never overwrites");
        }
        Path parent = this.target.getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw new OvfException(OvfException.Kind.IO, "the folder " + parent + " does not exist");
        }
        this.dir = parent.resolve(".ferry-staging-" + this.target.getFileName() + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        Files.createDirectory(dir);
    }

    Path dir() {
        return dir;
    }

    /** The final path of something staged at rel. */
    Path finalPath(String rel) {
        return target.resolve(rel);
    }

    Path target() {
        return target;
    }

    /** Moves the staged folder (or the staged file or folder named singleFile inside it, when not null) to the target. */
    void commit(String singleFile) throws IOException {
        Path from = singleFile == null ? dir : dir.resolve(singleFile);
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                try (var ch = java.nio.channels.FileChannel.open(p, java.nio.file.StandardOpenOption.WRITE)) {
                    ch.force(true);
                }
            }
        }
        try {
            Files.move(from, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            throw new OvfException(OvfException.Kind.IO, "cannot rename " + from + " to " + target + " atomically", e);
        } catch (FileAlreadyExistsException e) {
            throw new OvfException(OvfException.Kind.IO, target + " appeared while importing: left untouched", e);
        }
        committed = singleFile == null;
        if (singleFile != null) {
            delete(dir);
            committed = true;
        }
    }

    @Override
    public void close() throws IOException {
        if (!committed) {
            delete(dir);
        }
    }

    static void delete(Path p) throws IOException {
        if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(x);
            }
        }
    }
}
