package io.ferryvm.ovf;

/** Rules for names inside a package (hrefs and archive members): relative, no "..", no scheme, no control characters. */
final class PackagePaths {
    private PackagePaths() {}

    /** Why a path is unsafe to create under a target folder, or null when it is safe. */
    static String unsafe(String path) {
        if (path == null || path.isEmpty()) {
            return "is empty";
        }
        if (path.startsWith("/") || path.startsWith("\\") || path.matches("^[A-Za-z]:.*")) {
            return "is absolute";
        }
        if (path.contains("://") || path.matches("^[A-Za-z][A-Za-z0-9+.-]*:.*")) {
            return "is a URL, not a path inside the package";
        }
        if (path.contains("\\")) {
            return "contains a backslash";
        }
        for (String seg : path.split("/")) {
            if (seg.equals("..")) {
                return "contains '..'";
            }
        }
        for (int i = 0; i < path.length(); i++) {
            if (path.charAt(i) < 0x20 || path.charAt(i) == 0x7f) {
                return "contains a control character";
            }
        }
        return null;
    }

    /** The path with "./" segments and duplicate slashes removed (tar members are often written "./x"). */
    static String normalize(String path) {
        StringBuilder b = new StringBuilder();
        for (String seg : path.split("/")) {
            if (seg.isEmpty() || seg.equals(".")) {
                continue;
            }
            if (b.length() > 0) {
                b.append('/');
            }
            b.append(seg);
        }
        return b.toString();
    }
}
