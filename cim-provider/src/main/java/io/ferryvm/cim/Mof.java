package io.ferryvm.cim;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A MOF (DSP0221) reader for the subset Ferry needs: class declarations (the schema files in this jar)
 * and {@code instance of X { P = v; };} declarations (what cimtest and wbemcli send as embedded
 * instances). Input from the network goes through {@link #instances}: bounded in size and tokens, no
 * recursion beyond one array level, every failure a {@link CimException}.
 */
final class Mof {
    static final int MAX_TOKENS = 200_000;

    /** A raw class declaration: its own features only; {@link ClassRepository} resolves inheritance. */
    record ClassDecl(String name, String superclass, List<CimClass.Qualifier> qualifiers, List<CimClass.Property> properties,
            List<CimClass.Method> methods) {}

    /** An instance declaration with untyped literal values (typed later against its class). */
    record InstanceDecl(String className, Map<String, Literal> values) {}

    /** A literal: value is String, Long, Double, Boolean, null or a List of Literals; text records a quoted string. */
    record Literal(Object value, boolean quoted) {}

    private enum Kind { IDENT, STRING, CHAR, NUMBER, PUNCT, EOF }

    private record Token(Kind kind, String text, int line) {}

    private final List<Token> tokens;
    private int pos;

    private Mof(String text) {
        this.tokens = lex(text);
    }

    // ---- entry points ----

    static List<ClassDecl> classes(String text) {
        Mof m = new Mof(text);
        List<ClassDecl> out = new ArrayList<>();
        while (m.peek().kind != Kind.EOF) {
            List<CimClass.Qualifier> qs = m.qualifierList();
            m.expectWord("class");
            out.add(m.classBody(qs));
        }
        return out;
    }

    static List<InstanceDecl> instances(String text) {
        Mof m = new Mof(text);
        List<InstanceDecl> out = new ArrayList<>();
        while (m.peek().kind != Kind.EOF) {
            m.qualifierList(); // instance qualifiers carry nothing Ferry uses
            m.expectWord("instance");
            m.expectWord("of");
            String cls = m.ident();
            if (m.peekWord("as")) {
                m.next();
                m.expect("$");
                m.ident();
            }
            m.expect("{");
            Map<String, Literal> values = new LinkedHashMap<>();
            java.util.Set<String> seen = new java.util.HashSet<>();
            while (!m.peekPunct("}")) {
                m.qualifierList();
                String prop = m.ident();
                m.expect("=");
                Literal v = m.initializer();
                m.expect(";");
                if (!seen.add(prop.toLowerCase(Locale.ROOT))) {
                    throw m.error("property " + prop + " set twice");
                }
                values.put(prop, v);
            }
            m.expect("}");
            m.expect(";");
            out.add(new InstanceDecl(cls, values));
        }
        return out;
    }

    // ---- classes ----

    private ClassDecl classBody(List<CimClass.Qualifier> classQuals) {
        String name = ident();
        String sup = null;
        if (peekPunct(":")) {
            next();
            sup = ident();
        }
        expect("{");
        List<CimClass.Property> props = new ArrayList<>();
        List<CimClass.Method> methods = new ArrayList<>();
        while (!peekPunct("}")) {
            List<CimClass.Qualifier> qs = qualifierList();
            String typeName = ident();
            String refClass = null;
            CimType type;
            if (peekWord("REF")) {
                next();
                type = CimType.REFERENCE;
                refClass = typeName;
            } else {
                type = CimType.of(typeName);
            }
            String featureName = ident();
            if (peekPunct("(")) {
                next();
                List<CimClass.Parameter> params = new ArrayList<>();
                while (!peekPunct(")")) {
                    List<CimClass.Qualifier> pq = qualifierList();
                    String pt = ident();
                    String pref = null;
                    CimType ptype;
                    if (peekWord("REF")) {
                        next();
                        ptype = CimType.REFERENCE;
                        pref = pt;
                    } else {
                        ptype = CimType.of(pt);
                    }
                    String pname = ident();
                    boolean arr = arraySuffix();
                    params.add(new CimClass.Parameter(pname, ptype, arr, pref, pq));
                    if (peekPunct(",")) {
                        next();
                    }
                }
                expect(")");
                expect(";");
                methods.add(new CimClass.Method(featureName, type, params, qs, name, false));
            } else {
                boolean arr = arraySuffix();
                Object def = null;
                if (peekPunct("=")) {
                    next();
                    def = typed(initializer(), type, arr);
                }
                expect(";");
                props.add(new CimClass.Property(featureName, type, arr, refClass, qs, def, name, false));
            }
        }
        expect("}");
        expect(";");
        return new ClassDecl(name, sup, classQuals, props, methods);
    }

    private boolean arraySuffix() {
        if (!peekPunct("[")) {
            return false;
        }
        next();
        if (peek().kind == Kind.NUMBER) {
            next();
        }
        expect("]");
        return true;
    }

    private List<CimClass.Qualifier> qualifierList() {
        List<CimClass.Qualifier> out = new ArrayList<>();
        if (!peekPunct("[")) {
            return out;
        }
        next();
        while (true) {
            String name = ident();
            QualifierType qt = QualifierType.of(name);
            Object value;
            if (peekPunct("(")) {
                next();
                Literal l = literal();
                expect(")");
                value = qt == null ? l.value() : qt.coerce(l, this);
            } else if (peekPunct("{")) {
                value = qt == null ? unwrap(initializer()) : qt.coerce(initializer(), this);
            } else {
                value = Boolean.TRUE;
            }
            out.add(new CimClass.Qualifier(qt == null ? name : qt.name, qt == null ? CimType.STRING : qt.type,
                    qt != null && qt.array, value));
            if (peekPunct(",")) {
                next();
                continue;
            }
            expect("]");
            return out;
        }
    }

    /** The qualifier types Ferry's schema uses (DSP0004's standard qualifiers). */
    private enum QualifierType {
        ABSTRACT("Abstract", CimType.BOOLEAN, false), AGGREGATE("Aggregate", CimType.BOOLEAN, false),
        AGGREGATION("Aggregation", CimType.BOOLEAN, false), ASSOCIATION("Association", CimType.BOOLEAN, false),
        COUNTER("Counter", CimType.BOOLEAN, false), DEPRECATED("Deprecated", CimType.STRING, true),
        DESCRIPTION("Description", CimType.STRING, false), EMBEDDEDINSTANCE("EmbeddedInstance", CimType.STRING, false),
        EMBEDDEDOBJECT("EmbeddedObject", CimType.BOOLEAN, false), EXPERIMENTAL("Experimental", CimType.BOOLEAN, false),
        GAUGE("Gauge", CimType.BOOLEAN, false), IN("In", CimType.BOOLEAN, false), INDICATION("Indication", CimType.BOOLEAN, false),
        KEY("Key", CimType.BOOLEAN, false), MAX("Max", CimType.UINT32, false), MAXLEN("MaxLen", CimType.UINT32, false),
        MAXVALUE("MaxValue", CimType.SINT64, false), MIN("Min", CimType.UINT32, false),
        MINVALUE("MinValue", CimType.SINT64, false), MODELCORRESPONDENCE("ModelCorrespondence", CimType.STRING, true),
        OUT("Out", CimType.BOOLEAN, false), OVERRIDE("Override", CimType.STRING, false), PUNIT("PUnit", CimType.STRING, false),
        REQUIRED("Required", CimType.BOOLEAN, false), STATIC("Static", CimType.BOOLEAN, false),
        UNITS("Units", CimType.STRING, false), VALUEMAP("ValueMap", CimType.STRING, true), VALUES("Values", CimType.STRING, true),
        VERSION("Version", CimType.STRING, false), WEAK("Weak", CimType.BOOLEAN, false), WRITE("Write", CimType.BOOLEAN, false);

        final String name;
        final CimType type;
        final boolean array;

        QualifierType(String name, CimType type, boolean array) {
            this.name = name;
            this.type = type;
            this.array = array;
        }

        static QualifierType of(String n) {
            for (QualifierType q : values()) {
                if (q.name.equalsIgnoreCase(n)) {
                    return q;
                }
            }
            return null;
        }

        Object coerce(Literal l, Mof m) {
            if (array) {
                List<Object> out = new ArrayList<>();
                List<?> items = l.value() instanceof List ? (List<?>) l.value() : List.of(l);
                for (Object o : items) {
                    out.add(type.coerce(((Literal) o).value() == null ? null : String.valueOf(((Literal) o).value())));
                }
                return List.copyOf(out);
            }
            if (l.value() instanceof List) {
                throw m.error("qualifier " + name + " takes one value");
            }
            return type == CimType.STRING ? String.valueOf(l.value()) : type.coerce(l.value());
        }
    }

    private static Object unwrap(Literal l) {
        if (l.value() instanceof List) {
            List<Object> out = new ArrayList<>();
            for (Object o : (List<?>) l.value()) {
                out.add(((Literal) o).value());
            }
            return out;
        }
        return l.value();
    }

    /** Types a literal against a declared type (defaults in the schema, values in embedded instances). */
    static Object typed(Literal l, CimType type, boolean array) {
        if (l.value() == null) {
            return null;
        }
        if (array) {
            List<Object> out = new ArrayList<>();
            List<?> items = l.value() instanceof List ? (List<?>) l.value() : List.of(l);
            for (Object o : items) {
                out.add(typed((Literal) o, type, false));
            }
            return out;
        }
        if (l.value() instanceof List) {
            throw new CimException(CimStatus.TYPE_MISMATCH, "an array where one " + type.cimName() + " value belongs");
        }
        Object v = l.value();
        if (type == CimType.STRING && !l.quoted()) {
            throw new CimException(CimStatus.TYPE_MISMATCH, "string value " + v + " is not quoted");
        }
        if (v instanceof Double && type.isInteger()) {
            throw new CimException(CimStatus.TYPE_MISMATCH, v + " is not an integer");
        }
        return type.coerce(v instanceof String ? (String) v : v);
    }

    // ---- literals ----

    private Literal initializer() {
        if (peekPunct("{")) {
            next();
            List<Literal> items = new ArrayList<>();
            while (!peekPunct("}")) {
                items.add(literal());
                if (peekPunct(",")) {
                    next();
                } else if (!peekPunct("}")) {
                    throw error("expected ',' or '}' in an array value");
                }
            }
            expect("}");
            return new Literal(List.copyOf(items), false);
        }
        return literal();
    }

    private Literal literal() {
        Token t = next();
        switch (t.kind) {
            case STRING: {
                StringBuilder b = new StringBuilder(t.text);
                while (peek().kind == Kind.STRING) { // adjacent string literals concatenate
                    b.append(next().text);
                }
                return new Literal(b.toString(), true);
            }
            case CHAR:
                return new Literal(t.text, true);
            case NUMBER:
                return new Literal(number(t), false);
            case IDENT:
                if (t.text.equalsIgnoreCase("true")) {
                    return new Literal(Boolean.TRUE, false);
                }
                if (t.text.equalsIgnoreCase("false")) {
                    return new Literal(Boolean.FALSE, false);
                }
                if (t.text.equalsIgnoreCase("null")) {
                    return new Literal(null, false);
                }
                throw error("'" + t.text + "' is not a value");
            case PUNCT:
                if (t.text.equals("$")) {
                    throw error("aliases ($" + (peek().kind == Kind.IDENT ? peek().text : "") + ") are not supported");
                }
                throw error("'" + t.text + "' is not a value");
            default:
                throw error("a value is missing");
        }
    }

    private Object number(Token t) {
        String s = t.text;
        try {
            if (s.contains(".") || (s.contains("e") || s.contains("E")) && !s.toLowerCase(Locale.ROOT).startsWith("0x")
                    && !s.toLowerCase(Locale.ROOT).startsWith("-0x") && !s.toLowerCase(Locale.ROOT).startsWith("+0x")) {
                return Double.parseDouble(s);
            }
            String body = s.startsWith("+") ? s.substring(1) : s;
            boolean neg = body.startsWith("-");
            if (neg) {
                body = body.substring(1);
            }
            long v;
            if (body.toLowerCase(Locale.ROOT).startsWith("0x")) {
                v = Long.parseLong(body.substring(2), 16);
            } else if (body.toLowerCase(Locale.ROOT).endsWith("b") && body.matches("[01]+[bB]")) {
                v = Long.parseLong(body.substring(0, body.length() - 1), 2);
            } else {
                v = Long.parseLong(body);
            }
            return neg ? -v : v;
        } catch (NumberFormatException e) {
            throw error("'" + s + "' is not a number");
        }
    }

    // ---- token helpers ----

    private Token peek() {
        return tokens.get(pos);
    }

    private Token next() {
        Token t = tokens.get(pos);
        if (t.kind != Kind.EOF) {
            pos++;
        }
        return t;
    }

    private boolean peekPunct(String p) {
        Token t = peek();
        return t.kind == Kind.PUNCT && t.text.equals(p);
    }

    private boolean peekWord(String w) {
        Token t = peek();
        return t.kind == Kind.IDENT && t.text.equalsIgnoreCase(w);
    }

    private void expect(String punct) {
        Token t = next();
        if (t.kind != Kind.PUNCT || !t.text.equals(punct)) {
            throw error("expected '" + punct + "' but found " + describe(t));
        }
    }

    private void expectWord(String w) {
        Token t = next();
        if (t.kind != Kind.IDENT || !t.text.equalsIgnoreCase(w)) {
            throw error("expected '" + w + "' but found " + describe(t));
        }
    }

    private String ident() {
        Token t = next();
        if (t.kind != Kind.IDENT || !Names.isName(t.text)) {
            throw error("expected a name but found " + describe(t));
        }
        return t.text;
    }

    private static String describe(Token t) {
        return t.kind == Kind.EOF ? "the end" : "'" + CimObjectPath.abbreviate(t.text) + "'";
    }

    private CimException error(String what) {
        Token t = tokens.get(Math.min(pos, tokens.size() - 1));
        return new CimException(CimStatus.INVALID_PARAMETER, "MOF line " + t.line + ": " + what);
    }

    // ---- lexer ----

    private static List<Token> lex(String s) {
        List<Token> out = new ArrayList<>();
        int i = 0;
        int line = 1;
        int n = s.length();
        while (i < n) {
            if (out.size() > MAX_TOKENS) {
                throw new CimException(CimStatus.INVALID_PARAMETER, "MOF text has more than " + MAX_TOKENS + " tokens");
            }
            char c = s.charAt(i);
            if (c == '\n') {
                line++;
                i++;
            } else if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '/' && i + 1 < n && s.charAt(i + 1) == '/') {
                while (i < n && s.charAt(i) != '\n') {
                    i++;
                }
            } else if (c == '/' && i + 1 < n && s.charAt(i + 1) == '*') {
                int end = s.indexOf("*/", i + 2);
                if (end < 0) {
                    throw new CimException(CimStatus.INVALID_PARAMETER, "MOF line " + line + ": unterminated comment");
                }
                for (int k = i; k < end; k++) {
                    if (s.charAt(k) == '\n') {
                        line++;
                    }
                }
                i = end + 2;
            } else if (c == '#') { // #pragma lines
                while (i < n && s.charAt(i) != '\n') {
                    i++;
                }
            } else if (c == '"') {
                StringBuilder b = new StringBuilder();
                i++;
                boolean closed = false;
                while (i < n) {
                    char d = s.charAt(i++);
                    if (d == '"') {
                        closed = true;
                        break;
                    }
                    if (d == '\\') {
                        if (i >= n) {
                            break;
                        }
                        char e = s.charAt(i++);
                        switch (e) {
                            case 'n' -> b.append('\n');
                            case 't' -> b.append('\t');
                            case 'r' -> b.append('\r');
                            case 'b' -> b.append('\b');
                            case 'f' -> b.append('\f');
                            case '"', '\'', '\\' -> b.append(e);
                            case 'x', 'X' -> {
                                int start = i;
                                while (i < n && i - start < 4 && Character.digit(s.charAt(i), 16) >= 0) {
                                    i++;
                                }
                                if (i == start) {
                                    throw new CimException(CimStatus.INVALID_PARAMETER, "MOF line " + line + ": bad \\x escape");
                                }
                                b.append((char) Integer.parseInt(s.substring(start, i), 16));
                            }
                            default -> throw new CimException(CimStatus.INVALID_PARAMETER,
                                    "MOF line " + line + ": unknown escape \\" + e);
                        }
                    } else {
                        if (d == '\n') {
                            line++;
                        }
                        b.append(d);
                    }
                }
                if (!closed) {
                    throw new CimException(CimStatus.INVALID_PARAMETER, "MOF line " + line + ": unterminated string");
                }
                out.add(new Token(Kind.STRING, b.toString(), line));
            } else if (c == '\'') {
                if (i + 2 < n && s.charAt(i + 2) == '\'') {
                    out.add(new Token(Kind.CHAR, String.valueOf(s.charAt(i + 1)), line));
                    i += 3;
                } else {
                    throw new CimException(CimStatus.INVALID_PARAMETER, "MOF line " + line + ": bad char16 literal");
                }
            } else if (Character.isDigit(c) || ((c == '-' || c == '+' || c == '.') && i + 1 < n && Character.isDigit(s.charAt(i + 1)))) {
                int start = i;
                i++;
                while (i < n && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '.'
                        || ((s.charAt(i) == '-' || s.charAt(i) == '+') && (s.charAt(i - 1) == 'e' || s.charAt(i - 1) == 'E')))) {
                    i++;
                }
                out.add(new Token(Kind.NUMBER, s.substring(start, i), line));
            } else if (Character.isLetter(c) || c == '_') {
                int start = i;
                while (i < n && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_')) {
                    i++;
                }
                out.add(new Token(Kind.IDENT, s.substring(start, i), line));
            } else if ("[](){};,:=$.".indexOf(c) >= 0) {
                out.add(new Token(Kind.PUNCT, String.valueOf(c), line));
                i++;
            } else {
                throw new CimException(CimStatus.INVALID_PARAMETER, "MOF line " + line + ": unexpected character '"
                        + (Character.isISOControl(c) ? String.format("\\u%04x", (int) c) : String.valueOf(c)) + "'");
            }
        }
        out.add(new Token(Kind.EOF, "", line));
        return out;
    }
}
