package io.ferryvm.ovf;

/** One validation result: its severity, what is wrong, and where. */
public record Finding(Severity severity, String message, Location at) {
    public enum Severity { ERROR, WARNING }

    static Finding error(Location at, String message) {
        return new Finding(Severity.ERROR, message, at);
    }

    static Finding warning(Location at, String message) {
        return new Finding(Severity.WARNING, message, at);
    }

    public boolean isError() {
        return severity == Severity.ERROR;
    }

    @Override
    public String toString() {
        return at + ": " + (severity == Severity.ERROR ? "error" : "warning") + ": " + message;
    }
}
