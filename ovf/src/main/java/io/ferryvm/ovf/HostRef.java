package io.ferryvm.ovf;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A parsed rasd:HostResource reference: {@code ovf:/disk/<id>}, also {@code /disk/<id>} and {@code ovf://disk/<id>} (pitfall 10). */
record HostRef(boolean disk, String id) {
    private static final Pattern REF = Pattern.compile("^(?:ovf:)?/{1,2}(disk|file)/(.+)$");

    /** The reference, or null when the value is not an ovf:/disk or ovf:/file reference. */
    static HostRef parse(String value) {
        Matcher m = REF.matcher(value.strip());
        return m.matches() ? new HostRef(m.group(1).equals("disk"), m.group(2)) : null;
    }
}
