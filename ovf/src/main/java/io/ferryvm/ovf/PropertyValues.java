package io.ferryvm.ovf;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Checks a ProductSection property value against its ovf:type and ovf:qualifiers (MinLen, MaxLen, ValueMap, MinValue, MaxValue). */
final class PropertyValues {
    private static final Pattern QUALIFIER = Pattern.compile("(\\w+)\\s*(?:\\(([^)]*)\\)|\\{([^}]*)})?");

    private PropertyValues() {}

    /** Why value does not fit the property, or null when it does. */
    static String check(Property p, String value) {
        String typeError = checkType(p.type(), value);
        if (typeError != null) {
            return typeError;
        }
        Matcher m = QUALIFIER.matcher(p.qualifiers());
        while (m.find()) {
            String name = m.group(1);
            String arg = m.group(2) != null ? m.group(2).strip() : m.group(3) != null ? m.group(3).strip() : null;
            if (arg == null) {
                continue;
            }
            try {
                switch (name) {
                    case "MinLen" -> {
                        if (value.length() < Integer.parseInt(arg)) {
                            return "'" + shown(p, value) + "' is shorter than MinLen(" + arg + ")";
                        }
                    }
                    case "MaxLen" -> {
                        if (value.length() > Integer.parseInt(arg)) {
                            return "'" + shown(p, value) + "' is longer than MaxLen(" + arg + ")";
                        }
                    }
                    case "MinValue" -> {
                        if (new java.math.BigDecimal(value.strip()).compareTo(new java.math.BigDecimal(arg)) < 0) {
                            return value + " is below MinValue(" + arg + ")";
                        }
                    }
                    case "MaxValue" -> {
                        if (new java.math.BigDecimal(value.strip()).compareTo(new java.math.BigDecimal(arg)) > 0) {
                            return value + " is above MaxValue(" + arg + ")";
                        }
                    }
                    case "ValueMap" -> {
                        List<String> allowed = valueMap(arg);
                        if (!allowed.isEmpty() && !allowed.contains(value)) {
                            return "'" + shown(p, value) + "' is not one of ValueMap{" + String.join(", ", allowed) + "}";
                        }
                    }
                    default -> {
                        // Other qualifiers (Ip, ...) are hints to user interfaces, not constraints Ferry enforces.
                    }
                }
            } catch (NumberFormatException e) {
                return "qualifier " + name + "(" + arg + ") is not a number";
            }
        }
        return null;
    }

    private static String shown(Property p, String value) {
        return p.password() ? "(password)" : value;
    }

    static List<String> valueMap(String arg) {
        List<String> out = new ArrayList<>();
        for (String s : arg.split(",")) {
            String t = s.strip();
            if (t.length() >= 2 && t.startsWith("\"") && t.endsWith("\"")) {
                t = t.substring(1, t.length() - 1);
            }
            if (!t.isEmpty()) {
                out.add(t);
            }
        }
        return out;
    }

    private static String checkType(String type, String value) {
        String v = value.strip();
        switch (type) {
            case "string" -> {
                return null;
            }
            case "boolean" -> {
                return v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false") ? null : "'" + value + "' is not a boolean (true or false)";
            }
            case "real32", "real64" -> {
                try {
                    Double.parseDouble(v);
                    return null;
                } catch (NumberFormatException e) {
                    return "'" + value + "' is not a " + type;
                }
            }
            default -> {
                if (!type.matches("[us]int(8|16|32|64)")) {
                    return null;
                }
                int bits = Integer.parseInt(type.substring(4));
                boolean signed = type.charAt(0) == 's';
                BigInteger n;
                try {
                    n = new BigInteger(v);
                } catch (NumberFormatException e) {
                    return "'" + value + "' is not an integer (" + type + ")";
                }
                BigInteger min = signed ? BigInteger.ONE.shiftLeft(bits - 1).negate() : BigInteger.ZERO;
                BigInteger max = signed ? BigInteger.ONE.shiftLeft(bits - 1).subtract(BigInteger.ONE)
                        : BigInteger.ONE.shiftLeft(bits).subtract(BigInteger.ONE);
                if (n.compareTo(min) < 0 || n.compareTo(max) > 0) {
                    return value + " is outside the " + type + " range " + min + ".." + max;
                }
                return null;
            }
        }
    }
}
