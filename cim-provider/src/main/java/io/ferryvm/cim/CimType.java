package io.ferryvm.cim;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The CIM data types (DSP0004) and how their values look in Java: Boolean, String (string, char16,
 * datetime), Long (every integer type: range-checked, uint64 above 2^63-1 is refused), Double (real32,
 * real64), {@link CimObjectPath} (reference). Arrays are Lists of those; an embedded instance is a
 * {@link CimInstance} in a string property.
 */
enum CimType {
    BOOLEAN("boolean", 0, 0),
    STRING("string", 0, 0),
    CHAR16("char16", 0, 0xFFFF),
    UINT8("uint8", 0, 0xFF),
    SINT8("sint8", Byte.MIN_VALUE, Byte.MAX_VALUE),
    UINT16("uint16", 0, 0xFFFF),
    SINT16("sint16", Short.MIN_VALUE, Short.MAX_VALUE),
    UINT32("uint32", 0, 0xFFFF_FFFFL),
    SINT32("sint32", Integer.MIN_VALUE, Integer.MAX_VALUE),
    UINT64("uint64", 0, Long.MAX_VALUE),
    SINT64("sint64", Long.MIN_VALUE, Long.MAX_VALUE),
    REAL32("real32", 0, 0),
    REAL64("real64", 0, 0),
    DATETIME("datetime", 0, 0),
    REFERENCE("reference", 0, 0);

    /** yyyymmddhhmmss.mmmmmmsutc (timestamp) or ddddddddhhmmss.mmmmmm:000 (interval); '*' masks digits. */
    private static final Pattern DATETIME_FORMAT = Pattern.compile("[0-9*]{14}\\.[0-9*]{6}([+-][0-9*]{3}|:000)");

    private final String cimName;
    private final long min;
    private final long max;

    CimType(String cimName, long min, long max) {
        this.cimName = cimName;
        this.min = min;
        this.max = max;
    }

    String cimName() {
        return cimName;
    }

    boolean isInteger() {
        return this.ordinal() >= UINT8.ordinal() && this.ordinal() <= SINT64.ordinal();
    }

    boolean isReal() {
        return this == REAL32 || this == REAL64;
    }

    boolean isNumeric() {
        return isInteger() || isReal();
    }

    static CimType of(String name) {
        if (name != null) {
            String n = name.toLowerCase(Locale.ROOT);
            for (CimType t : values()) {
                if (t.cimName.equals(n)) {
                    return t;
                }
            }
            if (n.equals("ref")) {
                return REFERENCE;
            }
        }
        throw new CimException(CimStatus.INVALID_PARAMETER, "unknown CIM type '" + name + "'");
    }

    /** Parses a VALUE text (or a MOF literal's text) of this type; throws TYPE_MISMATCH if it is none. */
    Object parse(String text) {
        String t = text.trim();
        try {
            switch (this) {
                case BOOLEAN:
                    if (t.equalsIgnoreCase("true")) {
                        return Boolean.TRUE;
                    }
                    if (t.equalsIgnoreCase("false")) {
                        return Boolean.FALSE;
                    }
                    throw mismatch(text);
                case STRING:
                    return text;
                case CHAR16:
                    if (text.length() != 1) {
                        throw mismatch(text);
                    }
                    return text;
                case DATETIME:
                    if (!DATETIME_FORMAT.matcher(t).matches()) {
                        throw mismatch(text);
                    }
                    return t;
                case REAL32:
                case REAL64:
                    double d = Double.parseDouble(t);
                    return d;
                case REFERENCE:
                    return CimObjectPath.parse(t);
                default:
                    return checkRange(parseInteger(t));
            }
        } catch (NumberFormatException e) {
            throw mismatch(text);
        }
    }

    private static long parseInteger(String t) {
        String s = t.startsWith("+") ? t.substring(1) : t;
        boolean neg = s.startsWith("-");
        String digits = neg ? s.substring(1) : s;
        if (digits.startsWith("0x") || digits.startsWith("0X")) {
            long v = Long.parseLong(digits.substring(2), 16);
            return neg ? -v : v;
        }
        return Long.parseLong(s);
    }

    /** Coerces a Java value (from MOF or a provider) to this type, or throws TYPE_MISMATCH. */
    Object coerce(Object v) {
        if (v == null) {
            return null;
        }
        if (v instanceof String) {
            return this == STRING ? v : parse((String) v);
        }
        switch (this) {
            case BOOLEAN:
                if (v instanceof Boolean) {
                    return v;
                }
                break;
            case STRING:
                if (v instanceof CimInstance) {
                    return v;
                }
                break;
            case REAL32:
            case REAL64:
                if (v instanceof Number) {
                    return ((Number) v).doubleValue();
                }
                break;
            case REFERENCE:
                if (v instanceof CimObjectPath) {
                    return v;
                }
                break;
            default:
                if (isInteger() && (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte)) {
                    return checkRange(((Number) v).longValue());
                }
        }
        throw mismatch(String.valueOf(v));
    }

    private Long checkRange(long v) {
        if (v < min || v > max) {
            throw new CimException(CimStatus.TYPE_MISMATCH, v + " is out of range for " + cimName);
        }
        return v;
    }

    private CimException mismatch(String text) {
        String shown = text.length() > 64 ? text.substring(0, 64) + "..." : text;
        return new CimException(CimStatus.TYPE_MISMATCH, "'" + shown + "' is not a " + cimName + " value");
    }

    /** The VALUE text for a value of this type. */
    String format(Object v) {
        if (v instanceof Boolean) {
            return ((Boolean) v) ? "TRUE" : "FALSE";
        }
        if (v instanceof Double) {
            double d = (Double) v;
            return this == REAL32 ? Float.toString((float) d) : Double.toString(d);
        }
        return String.valueOf(v);
    }
}
