package io.ferryvm.ovf;

import java.util.Objects;

/**
 * The one error type of the ovf module. {@link Kind} names the variant; the message says what is wrong
 * and where (file, line and column, member, byte offset), so it can be shown to a user as it is.
 */
public final class OvfException extends RuntimeException {
    public enum Kind {
        /** Not well-formed XML, or XML that Ferry refuses on principle (DTDs, entities, too deep). */
        MALFORMED,
        /** A namespace, OVF version or disk format Ferry does not read. */
        UNSUPPORTED,
        /** A well-formed descriptor whose content is wrong: dangling references, duplicate ids, bad sizes. */
        INVALID,
        /** A descriptor that is valid but cannot become a Ferry VM (and why). */
        MAPPING,
        /** A digest, manifest entry or signature that does not match the data. */
        INTEGRITY,
        /** A disk image that is truncated, corrupt or inconsistent with what the descriptor declares. */
        CORRUPT_DISK,
        /** An archive member that would escape the target (.., absolute path, link, device) or is out of place. */
        UNSAFE_ARCHIVE,
        /** Input beyond a configured limit (descriptor size, member count, decompressed size). */
        TOO_LARGE,
        /** A property value that fails its type or qualifiers, or a deployment option that does not exist. */
        BAD_VALUE,
        /** An I/O failure on a source or the target. */
        IO
    }

    private final Kind kind;

    public OvfException(Kind kind, String message) {
        super(message);
        this.kind = Objects.requireNonNull(kind);
    }

    public OvfException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = Objects.requireNonNull(kind);
    }

    public Kind kind() {
        return kind;
    }
}
