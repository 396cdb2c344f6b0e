package io.ferryvm.ovf;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An OVF manifest (.mf): one {@code SHA256(file)= hex} line per file. Read leniently (any spacing around the
 * parentheses and '=', CR line ends, SHA-256 spelled with a dash, unknown lines reported as warnings) and
 * written strictly in the form ESXi and ovftool accept: no space before '(', one after '='.
 */
public record Manifest(List<Entry> entries, List<String> warnings) {
    private static final Pattern LINE = Pattern.compile("^\\s*([A-Za-z0-9-]+)\\s*\\((.*)\\)\\s*=\\s*([0-9a-fA-F]+)\\s*$");

    /** One manifest line. */
    public record Entry(Digest digest, String file, String hex, int line) {
        public Entry {
            hex = hex.toLowerCase(Locale.ROOT);
        }
    }

    public Manifest {
        entries = List.copyOf(entries);
        warnings = List.copyOf(warnings);
    }

    public static Manifest parse(byte[] bytes, String source) {
        List<Entry> entries = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        String[] lines = new String(bytes, StandardCharsets.UTF_8).split("\n", -1);
        Map<String, Integer> seen = new LinkedHashMap<>();
        for (int i = 0; i < lines.length; i++) {
            String l = lines[i];
            if (l.isBlank()) {
                continue;
            }
            Matcher m = LINE.matcher(l);
            Digest d = m.matches() ? Digest.named(m.group(1)) : null;
            if (d == null) {
                warnings.add(source + ":" + (i + 1) + ": not a manifest line, ignored: " + abbreviate(l));
                continue;
            }
            if (m.group(3).length() != d.hexLength()) {
                throw new OvfException(OvfException.Kind.INTEGRITY, source + ":" + (i + 1) + ": " + d + " digest of " + m.group(2)
                        + " has " + m.group(3).length() + " hex digits, not " + d.hexLength());
            }
            String file = m.group(2).strip();
            Integer prev = seen.put(file, i + 1);
            if (prev != null) {
                throw new OvfException(OvfException.Kind.INTEGRITY, source + ":" + (i + 1) + ": " + file + " is listed twice (also line " + prev + ")");
            }
            entries.add(new Entry(d, file, m.group(3), i + 1));
        }
        return new Manifest(entries, warnings);
    }

    private static String abbreviate(String s) {
        String t = s.strip();
        return t.length() > 80 ? t.substring(0, 80) + "..." : t;
    }

    public Entry entry(String file) {
        for (Entry e : entries) {
            if (e.file.equals(file)) {
                return e;
            }
        }
        return null;
    }

    /** The canonical bytes: "SHA256(name)= hex\n" per entry. */
    public byte[] toBytes() {
        StringBuilder b = new StringBuilder();
        for (Entry e : entries) {
            b.append(e.digest.name()).append('(').append(e.file).append(")= ").append(e.hex).append('\n');
        }
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }
}
