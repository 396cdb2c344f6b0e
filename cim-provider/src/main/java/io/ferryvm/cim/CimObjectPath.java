package io.ferryvm.cim;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * An object path: optional host and namespace, a class name and (for an instance) key bindings. Names
 * compare case-insensitively, as CIM names do; the host never takes part in equality. Key values are
 * String, Long, Boolean or CimObjectPath (association keys).
 *
 * <p>The text form is the one wbemcli and DSP0207 use: {@code //host/root/virtualization:Ferry_ComputerSystem.CreationClassName="Ferry_ComputerSystem",Name="vm1"}.
 */
final class CimObjectPath {
    private final String host;
    private final String namespace;
    private final String className;
    private final Map<String, Object> keys;

    CimObjectPath(String host, String namespace, String className, Map<String, Object> keys) {
        this.host = host == null || host.isEmpty() ? null : host;
        this.namespace = namespace == null || namespace.isEmpty() ? null : Namespaces.normalize(namespace);
        this.className = Objects.requireNonNull(className, "className");
        this.keys = Collections.unmodifiableMap(new LinkedHashMap<>(keys));
    }

    static CimObjectPath ofClass(String namespace, String className) {
        return new CimObjectPath(null, namespace, className, Map.of());
    }

    String host() {
        return host;
    }

    String namespace() {
        return namespace;
    }

    String className() {
        return className;
    }

    Map<String, Object> keys() {
        return keys;
    }

    boolean isClassPath() {
        return keys.isEmpty();
    }

    /** The value of a key (name case-insensitive), or null. */
    Object key(String name) {
        for (Map.Entry<String, Object> e : keys.entrySet()) {
            if (e.getKey().equalsIgnoreCase(name)) {
                return e.getValue();
            }
        }
        return null;
    }

    String keyString(String name) {
        Object v = key(name);
        return v == null ? null : String.valueOf(v);
    }

    CimObjectPath withNamespace(String ns) {
        return new CimObjectPath(host, ns, className, keys);
    }

    CimObjectPath withHost(String h) {
        return new CimObjectPath(h, namespace, className, keys);
    }

    /** This path in namespace ns unless it names one already. */
    CimObjectPath inNamespace(String ns) {
        return namespace == null ? withNamespace(ns) : this;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof CimObjectPath)) {
            return false;
        }
        CimObjectPath p = (CimObjectPath) o;
        if (!className.equalsIgnoreCase(p.className) || keys.size() != p.keys.size()) {
            return false;
        }
        if (namespace != null && p.namespace != null && !namespace.equalsIgnoreCase(p.namespace)) {
            return false;
        }
        for (Map.Entry<String, Object> e : keys.entrySet()) {
            Object other = p.key(e.getKey());
            if (other == null || !keyValueEquals(e.getValue(), other)) {
                return false;
            }
        }
        return true;
    }

    /** Key values equal: same text, or the same path when one side is a path and the other its text. */
    static boolean keyValueEquals(Object a, Object b) {
        if (a instanceof CimObjectPath || b instanceof CimObjectPath) {
            CimObjectPath pa = a instanceof CimObjectPath ? (CimObjectPath) a : tryParse(String.valueOf(a));
            CimObjectPath pb = b instanceof CimObjectPath ? (CimObjectPath) b : tryParse(String.valueOf(b));
            return pa != null && pa.equals(pb);
        }
        if (a instanceof Boolean || b instanceof Boolean) {
            return String.valueOf(a).equalsIgnoreCase(String.valueOf(b));
        }
        return String.valueOf(a).equals(String.valueOf(b));
    }

    private static CimObjectPath tryParse(String s) {
        try {
            return parse(s);
        } catch (CimException e) {
            return null;
        }
    }

    @Override
    public int hashCode() {
        // namespace and key values vary in form (text vs path): hash what always compares exactly
        return className.toLowerCase(Locale.ROOT).hashCode() * 31 + keys.size();
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        if (host != null) {
            b.append("//").append(host).append('/');
        }
        if (namespace != null) {
            b.append(namespace).append(':');
        }
        b.append(className);
        String sep = ".";
        for (Map.Entry<String, Object> e : keys.entrySet()) {
            b.append(sep).append(e.getKey()).append('=');
            Object v = e.getValue();
            if (v instanceof Long || v instanceof Boolean) {
                b.append(v instanceof Boolean ? (((Boolean) v) ? "TRUE" : "FALSE") : v);
            } else {
                b.append('"').append(String.valueOf(v).replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
            }
            sep = ",";
        }
        return b.toString();
    }

    /**
     * Parses the text form: {@code [//host/][namespace:]Class[.key=value,...]}; a leading host with a
     * port or dots is recognised without the slashes ({@code 127.0.0.1:5988/root/x:Class...}, wbemcli's
     * way). Values: "quoted" (backslash escapes), numbers, TRUE/FALSE.
     */
    static CimObjectPath parse(String text) {
        if (text == null || text.isBlank() || text.length() > 8192) {
            throw new CimException(CimStatus.INVALID_PARAMETER, "not an object path: '" + abbreviate(text) + "'");
        }
        String t = text.trim();
        int eq = t.indexOf('=');
        String head = eq < 0 ? t : t.substring(0, eq);
        int dot = eq < 0 ? -1 : head.lastIndexOf('.');
        if (eq >= 0 && dot < 0) {
            throw new CimException(CimStatus.INVALID_PARAMETER, "not an object path: '" + abbreviate(text) + "'");
        }
        String classPart = eq < 0 ? t : t.substring(0, dot);
        String keyPart = eq < 0 ? "" : t.substring(dot + 1);
        int colon = classPart.lastIndexOf(':');
        String cls = classPart.substring(colon + 1);
        String prefix = colon < 0 ? "" : classPart.substring(0, colon);
        String host = null;
        if (prefix.startsWith("//")) {
            int slash = prefix.indexOf('/', 2);
            host = slash < 0 ? prefix.substring(2) : prefix.substring(2, slash);
            prefix = slash < 0 ? "" : prefix.substring(slash + 1);
        } else {
            int slash = prefix.indexOf('/');
            String first = slash < 0 ? prefix : prefix.substring(0, slash);
            if (first.contains(":") || first.contains(".")) {
                host = first;
                prefix = slash < 0 ? "" : prefix.substring(slash + 1);
            }
        }
        if (!Names.isName(cls)) {
            throw new CimException(CimStatus.INVALID_PARAMETER, "'" + abbreviate(cls) + "' is not a class name in path '"
                    + abbreviate(text) + "'");
        }
        return new CimObjectPath(host, prefix, cls, parseKeys(keyPart, text));
    }

    private static Map<String, Object> parseKeys(String s, String whole) {
        Map<String, Object> keys = new LinkedHashMap<>();
        int i = 0;
        while (i < s.length()) {
            int eq = s.indexOf('=', i);
            if (eq < 0) {
                throw badPath(whole);
            }
            String name = s.substring(i, eq).trim();
            if (!Names.isName(name)) {
                throw badPath(whole);
            }
            i = eq + 1;
            Object value;
            if (i < s.length() && s.charAt(i) == '"') {
                StringBuilder v = new StringBuilder();
                i++;
                boolean closed = false;
                while (i < s.length()) {
                    char c = s.charAt(i++);
                    if (c == '\\' && i < s.length()) {
                        v.append(s.charAt(i++));
                    } else if (c == '"') {
                        closed = true;
                        break;
                    } else {
                        v.append(c);
                    }
                }
                if (!closed) {
                    throw badPath(whole);
                }
                value = v.toString();
            } else {
                int end = s.indexOf(',', i);
                String raw = (end < 0 ? s.substring(i) : s.substring(i, end)).trim();
                i = end < 0 ? s.length() : end;
                if (raw.equalsIgnoreCase("true") || raw.equalsIgnoreCase("false")) {
                    value = Boolean.valueOf(raw.toLowerCase(Locale.ROOT));
                } else {
                    try {
                        value = Long.parseLong(raw.startsWith("+") ? raw.substring(1) : raw);
                    } catch (NumberFormatException e) {
                        throw badPath(whole);
                    }
                }
            }
            keys.put(name, value);
            if (i < s.length()) {
                if (s.charAt(i) != ',') {
                    throw badPath(whole);
                }
                i++;
            }
        }
        return keys;
    }

    private static CimException badPath(String text) {
        return new CimException(CimStatus.INVALID_PARAMETER, "malformed key bindings in object path '" + abbreviate(text) + "'");
    }

    static String abbreviate(String s) {
        if (s == null) {
            return "null";
        }
        return s.length() > 120 ? s.substring(0, 120) + "..." : s;
    }

    /** Builds instance paths key by key, in order. */
    static final class Builder {
        private final String namespace;
        private final String className;
        private final Map<String, Object> keys = new LinkedHashMap<>();

        Builder(String namespace, String className) {
            this.namespace = namespace;
            this.className = className;
        }

        Builder key(String name, Object value) {
            keys.put(name, value);
            return this;
        }

        CimObjectPath build() {
            return new CimObjectPath(null, namespace, className, keys);
        }
    }

    static Builder builder(String namespace, String className) {
        return new Builder(namespace, className);
    }

    /**
     * A text that is equal for equal paths of one namespace (names lower-cased, keys sorted): for hash
     * maps and de-duplication.
     */
    String canonical() {
        StringBuilder b = new StringBuilder();
        b.append(namespace == null ? "" : namespace.toLowerCase(Locale.ROOT)).append(':').append(className.toLowerCase(Locale.ROOT));
        java.util.TreeMap<String, Object> sorted = new java.util.TreeMap<>();
        for (Map.Entry<String, Object> e : keys.entrySet()) {
            sorted.put(e.getKey().toLowerCase(Locale.ROOT), e.getValue());
        }
        for (Map.Entry<String, Object> e : sorted.entrySet()) {
            Object v = e.getValue();
            b.append('.').append(e.getKey()).append('=');
            if (v instanceof CimObjectPath) {
                b.append('{').append(((CimObjectPath) v).canonical()).append('}');
            } else {
                b.append('"').append(v).append('"');
            }
        }
        return b.toString();
    }

    /** The key names of this path, in order. */
    List<String> keyNames() {
        return new ArrayList<>(keys.keySet());
    }
}
