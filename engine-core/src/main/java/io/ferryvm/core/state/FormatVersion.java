package io.ferryvm.core.state;

import io.ferryvm.core.CoreException;

/**
 * One explicit version per serialized format, with a written window: this build writes {@code current}
 * and reads {@code minReadable..current}. Newer input is refused (upgrade Ferry), older input too.
 * The version lives in Ferry's own header, outside Kryo.
 */
public record FormatVersion(String name, int current, int minReadable) {
    public FormatVersion {
        if (name == null || name.isBlank() || name.length() > 64) {
            throw new IllegalArgumentException("format name must be 1..64 characters");
        }
        if (minReadable < 1 || current < minReadable || current > 0xFFFF) {
            throw new IllegalArgumentException("format " + name + ": bad window " + minReadable + ".." + current);
        }
    }

    /** Throws unless version is readable; where names the input for the message. */
    public void checkReadable(int version, String where) {
        if (version > current) {
            throw new CoreException(CoreException.Kind.UNSUPPORTED_VERSION,
                    where + ": " + name + " format v" + version + " is newer than this Ferry reads (v" + minReadable
                            + "..v" + current + "); upgrade Ferry on this host");
        }
        if (version < minReadable) {
            throw new CoreException(CoreException.Kind.UNSUPPORTED_VERSION,
                    where + ": " + name + " format v" + version + " is older than this Ferry reads (v" + minReadable
                            + "..v" + current + ")");
        }
    }
}
