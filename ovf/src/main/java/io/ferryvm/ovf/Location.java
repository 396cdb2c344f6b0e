package io.ferryvm.ovf;

/** Where something was read: a source name (file or archive member) and a 1-based line and column (0: unknown). */
public record Location(String source, int line, int column) {
    public static final Location NONE = new Location("", 0, 0);

    public Location {
        source = source == null ? "" : source;
    }

    @Override
    public String toString() {
        if (line <= 0) {
            return source.isEmpty() ? "(generated)" : source;
        }
        return (source.isEmpty() ? "" : source + ":") + line + ":" + column;
    }
}
