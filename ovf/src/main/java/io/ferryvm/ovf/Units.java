package io.ferryvm.ovf;

import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * DSP0004 programmatic units ("byte * 2^30", "byte*1024*1024") and the informal names real tools write
 * ("MegaBytes", "MB", "GigaBytes"), for capacities and memory; also {@code ${property}} capacities.
 */
public final class Units {
    private static final Pattern POWER = Pattern.compile("(\\d+)\\^(\\d+)");
    private static final Pattern REFERENCE = Pattern.compile("\\$\\{([^}]+)}");
    private static final Map<String, Long> NAMES = Map.ofEntries(
            Map.entry("byte", 1L), Map.entry("bytes", 1L), Map.entry("b", 1L),
            Map.entry("kilobyte", 1L << 10), Map.entry("kilobytes", 1L << 10), Map.entry("kb", 1L << 10), Map.entry("kib", 1L << 10),
            Map.entry("megabyte", 1L << 20), Map.entry("megabytes", 1L << 20), Map.entry("mb", 1L << 20), Map.entry("mib", 1L << 20),
            Map.entry("gigabyte", 1L << 30), Map.entry("gigabytes", 1L << 30), Map.entry("gb", 1L << 30), Map.entry("gib", 1L << 30),
            Map.entry("terabyte", 1L << 40), Map.entry("terabytes", 1L << 40), Map.entry("tb", 1L << 40), Map.entry("tib", 1L << 40));

    private Units() {}

    /** Bytes per unit for a byte-based unit string; throws IllegalArgumentException naming the unit when it is not one. */
    public static long bytesPerUnit(String units) {
        String u = units == null ? "byte" : units.strip().toLowerCase(Locale.ROOT).replace(" ", "");
        if (u.isEmpty()) {
            return 1;
        }
        Long named = NAMES.get(u);
        if (named != null) {
            return named;
        }
        String[] parts = u.split("\\*");
        if (!parts[0].equals("byte") && !parts[0].equals("bytes")) {
            throw new IllegalArgumentException("allocation units '" + units + "' are not bytes");
        }
        long m = 1;
        try {
            for (int i = 1; i < parts.length; i++) {
                Matcher pm = POWER.matcher(parts[i]);
                if (pm.matches()) {
                    long base = Long.parseLong(pm.group(1));
                    int exp = Integer.parseInt(pm.group(2));
                    if (exp > 62) {
                        throw new ArithmeticException();
                    }
                    for (int e = 0; e < exp; e++) {
                        m = Math.multiplyExact(m, base);
                    }
                } else if (parts[i].matches("\\d+")) {
                    m = Math.multiplyExact(m, Long.parseLong(parts[i]));
                } else {
                    throw new IllegalArgumentException("allocation units '" + units + "': cannot read factor '" + parts[i] + "'");
                }
            }
        } catch (ArithmeticException | NumberFormatException e) {
            throw new IllegalArgumentException("allocation units '" + units + "' overflow 64 bits");
        }
        return m;
    }

    /** quantity x units in bytes, or IllegalArgumentException naming what is wrong. */
    public static long bytes(String quantity, String units) {
        long q;
        try {
            q = Long.parseLong(quantity.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + quantity + "' is not a whole number");
        }
        if (q < 0) {
            throw new IllegalArgumentException("negative quantity " + q);
        }
        try {
            return Math.multiplyExact(q, bytesPerUnit(units));
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(quantity + " x '" + units + "' overflows 64 bits");
        }
    }

    /** The property key of a {@code ${key}} capacity, or null when the capacity is a number. */
    public static String reference(String capacity) {
        Matcher m = REFERENCE.matcher(capacity.strip());
        return m.matches() ? m.group(1) : null;
    }

    /** A disk's capacity in bytes, resolving {@code ${key}} from property values (full or bare keys). */
    public static long capacityBytes(VirtualDisk d, Map<String, String> properties) {
        String cap = d.capacity();
        String ref = reference(cap);
        if (ref != null) {
            String v = properties.get(ref);
            if (v == null) {
                throw new IllegalArgumentException("capacity ${" + ref + "} names no ProductSection property");
            }
            cap = v;
        }
        if (cap.isEmpty()) {
            throw new IllegalArgumentException("no ovf:capacity");
        }
        return bytes(cap, d.capacityUnits());
    }
}
