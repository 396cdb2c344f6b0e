package io.ferryvm.cim;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Which indication listeners the server may connect to: a subscription's destination is a request the
 * server makes on a client's behalf, so without a limit it reaches anything the server can (SSRF).
 * Entries are IP addresses or CIDR ranges (matched against IP-literal destinations only: no DNS
 * lookup, so no rebinding) or host names (matched exactly), each with an optional port:
 * {@code 127.0.0.1}, {@code 10.0.0.0/8}, {@code [::1]:5990}, {@code listener.example.com:5990}.
 * An empty policy refuses every destination.
 */
final class ListenerPolicy {
    private record Entry(byte[] network, int prefix, String hostname, int port) {}

    private final List<Entry> entries;
    private final List<String> text;

    ListenerPolicy(List<String> allowed) {
        this.text = List.copyOf(allowed);
        List<Entry> e = new ArrayList<>();
        for (String a : allowed) {
            e.add(parse(a.trim()));
        }
        this.entries = e;
    }

    private static Entry parse(String a) {
        String hostPart = a;
        int port = -1;
        if (a.startsWith("[")) {
            int close = a.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("listener allow-list entry '" + a + "': missing ']'");
            }
            hostPart = a.substring(1, close);
            if (a.length() > close + 1) {
                port = port(a.substring(close + 2), a);
            }
        } else if (a.indexOf(':') >= 0 && a.indexOf(':') == a.lastIndexOf(':')) {
            hostPart = a.substring(0, a.indexOf(':'));
            port = port(a.substring(a.indexOf(':') + 1), a);
        }
        int prefix = -1;
        int slash = hostPart.indexOf('/');
        String addr = hostPart;
        if (slash >= 0) {
            addr = hostPart.substring(0, slash);
            prefix = Integer.parseInt(hostPart.substring(slash + 1));
        }
        byte[] ip = literal(addr);
        if (ip == null) {
            if (prefix >= 0 || addr.isEmpty()) {
                throw new IllegalArgumentException("listener allow-list entry '" + a + "': a CIDR range needs an IP address");
            }
            return new Entry(null, -1, addr.toLowerCase(Locale.ROOT), port);
        }
        if (prefix < 0) {
            prefix = ip.length * 8;
        }
        if (prefix > ip.length * 8) {
            throw new IllegalArgumentException("listener allow-list entry '" + a + "': prefix /" + prefix + " is too long");
        }
        return new Entry(ip, prefix, null, port);
    }

    private static int port(String s, String entry) {
        try {
            int p = Integer.parseInt(s);
            if (p < 1 || p > 65535) {
                throw new NumberFormatException();
            }
            return p;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("listener allow-list entry '" + entry + "': bad port '" + s + "'");
        }
    }

    /** The address bytes of an IP literal, or null for a name (never resolved). */
    static byte[] literal(String host) {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        boolean v4 = h.matches("\\d{1,3}(\\.\\d{1,3}){3}");
        boolean v6 = h.contains(":") && h.matches("[0-9A-Fa-f:.]+");
        if (!v4 && !v6) {
            return null;
        }
        try {
            return InetAddress.getByName(h).getAddress(); // a literal: parsed, not looked up
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /** Checks a destination URL; throws ACCESS_DENIED (or INVALID_PARAMETER for a malformed one). */
    URI check(String destination) {
        URI uri;
        try {
            uri = new URI(destination.trim());
        } catch (java.net.URISyntaxException e) {
            throw new CimException(CimStatus.INVALID_PARAMETER, "Destination '" + CimObjectPath.abbreviate(destination)
                    + "' is not a URL");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null || uri.getUserInfo() != null) {
            throw new CimException(CimStatus.INVALID_PARAMETER, "Destination '" + CimObjectPath.abbreviate(destination)
                    + "' must be an http:// or https:// URL with a host and no credentials");
        }
        int port = uri.getPort() >= 0 ? uri.getPort() : scheme.equals("https") ? 443 : 80;
        byte[] ip = literal(uri.getHost());
        for (Entry e : entries) {
            if (e.port() >= 0 && e.port() != port) {
                continue;
            }
            if (e.hostname() != null ? e.hostname().equalsIgnoreCase(uri.getHost()) : ip != null && inRange(ip, e)) {
                return uri;
            }
        }
        throw new CimException(CimStatus.ACCESS_DENIED, "Destination " + uri.getHost() + ":" + port
                + " is not in the indication listener allow-list " + text);
    }

    private static boolean inRange(byte[] ip, Entry e) {
        if (ip.length != e.network().length) {
            return false;
        }
        int bits = e.prefix();
        for (int i = 0; i < ip.length && bits > 0; i++, bits -= 8) {
            int mask = bits >= 8 ? 0xFF : (0xFF << (8 - bits)) & 0xFF;
            if ((ip[i] & mask) != (e.network()[i] & mask)) {
                return false;
            }
        }
        return true;
    }
}
