package io.ferryvm.qemu;

import java.util.Objects;

/**
 * The one error type of the QEMU driver. {@link Kind} names the variant; the message says what failed and
 * where (the guest, the QMP command and QEMU's own error class and text, the byte offset of a bad frame).
 */
public final class QemuException extends RuntimeException {
    public enum Kind {
        /** qemu-system-x86_64 (or as/ld for the test guest) is not installed or not runnable. */
        NOT_INSTALLED,
        /** The QEMU process could not be started or exited before its QMP socket came up. */
        LAUNCH,
        /** A spec QEMU cannot be given (bad path characters, unknown disk format, impossible placement). */
        INVALID_SPEC,
        /** QEMU answered a command with an error (its class and description are in the message). */
        QMP_ERROR,
        /** The QMP peer broke the protocol: bad greeting, malformed JSON, an answer to no command. */
        PROTOCOL,
        /** No answer, event or state within the bound. */
        TIMEOUT,
        /** The QMP connection or the QEMU process is gone. */
        DISCONNECTED,
        /** A live migration failed or was cancelled; the source keeps running. */
        MIGRATION,
        /** A tunnel frame that is truncated, corrupt or out of its bounds. */
        CORRUPT_STREAM,
        /** Pinning, /proc or another host facility refused. */
        HOST,
        /** File or socket I/O. */
        IO
    }

    private final Kind kind;

    public QemuException(Kind kind, String message) {
        super(message);
        this.kind = Objects.requireNonNull(kind);
    }

    public QemuException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = Objects.requireNonNull(kind);
    }

    public Kind kind() {
        return kind;
    }
}
