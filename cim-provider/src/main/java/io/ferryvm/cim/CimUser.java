package io.ferryvm.cim;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A user of the CIM server: name, salted password hash ({@link PasswordHash}) and access per namespace
 * (a namespace not listed is refused). One line of a users file:
 * {@code admin:pbkdf2-sha256:310000:<salt>:<hash>:root/virtualization=rw,root/interop=rw}.
 */
public record CimUser(String name, String passwordHash, Map<String, Access> namespaces) {
    /** READ: get, enumerate, associations, queries; WRITE adds create, modify, delete and methods. */
    public enum Access { READ, WRITE }

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@-]{0,63}");

    public CimUser {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("CIM user name '" + name + "' must be 1-64 letters, digits, '.', '_', '@' or '-'");
        }
        if (!PasswordHash.isHash(passwordHash)) {
            throw new IllegalArgumentException("CIM user " + name + ": the password must be given as a "
                    + PasswordHash.SCHEME + " hash (never in plain text)");
        }
        Map<String, Access> m = new LinkedHashMap<>();
        for (Map.Entry<String, Access> e : Objects.requireNonNull(namespaces, "namespaces").entrySet()) {
            m.put(Namespaces.normalize(e.getKey()).toLowerCase(Locale.ROOT), Objects.requireNonNull(e.getValue()));
        }
        namespaces = Map.copyOf(m);
    }

    /** A user with write access to Ferry's two namespaces. */
    public static CimUser administrator(String name, String passwordHash) {
        return new CimUser(name, passwordHash, Map.of(Names.VIRTUALIZATION, Access.WRITE, Names.INTEROP, Access.WRITE));
    }

    boolean mayRead(String ns) {
        return namespaces.containsKey(ns.toLowerCase(Locale.ROOT));
    }

    boolean mayWrite(String ns) {
        return namespaces.get(ns.toLowerCase(Locale.ROOT)) == Access.WRITE;
    }

    /** Parses one users-file line (see the class comment). */
    public static CimUser parse(String line) {
        String[] parts = line.trim().split(":");
        if (parts.length != 6) {
            throw new IllegalArgumentException("a CIM user line is name:" + PasswordHash.SCHEME
                    + ":iterations:salt:hash:namespace=r|rw,... (got " + parts.length + " fields)");
        }
        Map<String, Access> ns = new LinkedHashMap<>();
        for (String grant : parts[5].split(",")) {
            String[] kv = grant.trim().split("=");
            if (kv.length != 2 || !(kv[1].equals("r") || kv[1].equals("rw"))) {
                throw new IllegalArgumentException("CIM user " + parts[0] + ": grant '" + grant + "' is not namespace=r or namespace=rw");
            }
            ns.put(kv[0], kv[1].equals("rw") ? Access.WRITE : Access.READ);
        }
        return new CimUser(parts[0], String.join(":", parts[1], parts[2], parts[3], parts[4]), ns);
    }

    /** The users-file line for this user. */
    public String line() {
        StringBuilder b = new StringBuilder(name).append(':').append(passwordHash).append(':');
        String sep = "";
        for (Map.Entry<String, Access> e : namespaces.entrySet()) {
            b.append(sep).append(e.getKey()).append('=').append(e.getValue() == Access.WRITE ? "rw" : "r");
            sep = ",";
        }
        return b.toString();
    }
}
