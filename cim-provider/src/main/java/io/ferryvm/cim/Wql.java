package io.ferryvm.cim;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * WQL as ExecQuery, OpenQueryInstances and indication filters use it:
 * {@code SELECT * | p1, p2 FROM Class [WHERE predicate]} where predicates compare properties with
 * literals (=, <>, !=, <, <=, >, >=, LIKE with % and _), test IS [NOT] NULL or ISA a class, and combine
 * with AND, OR, NOT and parentheses. A property may reach into an embedded instance
 * ({@code SourceInstance.EnabledState}), which is what indication filters need. DMTF:CQL queries of the
 * same shape are accepted too.
 */
final class Wql {
    static final int MAX_LENGTH = 4096;

    /** A parsed query: select list (null for *), the FROM class, the WHERE condition (null for none). */
    record Query(List<String> select, String className, Expr where) {
        boolean matches(CimInstance i, ClassRepository repo, String ns) {
            return where == null || Boolean.TRUE.equals(where.eval(i, repo, ns));
        }
    }

    interface Expr {
        /** TRUE, FALSE or null (unknown: a comparison with NULL). */
        Boolean eval(CimInstance i, ClassRepository repo, String ns);
    }

    private enum T { WORD, STRING, NUMBER, OP, LPAREN, RPAREN, COMMA, STAR, DOT, END }

    private record Tok(T t, String s) {}

    private final List<Tok> toks;
    private int p;

    private Wql(String q) {
        this.toks = lex(q);
    }

    static boolean supportsLanguage(String lang) {
        return lang != null && (lang.equalsIgnoreCase("WQL") || lang.equalsIgnoreCase("DMTF:CQL") || lang.equalsIgnoreCase("CQL")
                || lang.equalsIgnoreCase("CIM:CQL"));
    }

    static Query parse(String q) {
        if (q == null || q.isBlank()) {
            throw invalid("the query is empty");
        }
        if (q.length() > MAX_LENGTH) {
            throw invalid("the query is longer than " + MAX_LENGTH + " characters");
        }
        Wql w = new Wql(q);
        w.word("SELECT");
        List<String> select = null;
        if (w.peek().t == T.STAR) {
            w.next();
        } else {
            select = new ArrayList<>();
            do {
                select.add(w.name());
            } while (w.accept(T.COMMA));
        }
        w.word("FROM");
        String cls = w.name();
        Expr where = null;
        if (w.peekWord("WHERE")) {
            w.next();
            where = w.or(0);
        }
        if (w.peek().t != T.END) {
            throw invalid("unexpected '" + w.peek().s + "' after the query");
        }
        return new Query(select, cls, where);
    }

    private Expr or(int depth) {
        if (depth > 32) {
            throw invalid("the condition nests too deeply");
        }
        Expr left = and(depth);
        while (peekWord("OR")) {
            next();
            Expr l = left;
            Expr r = and(depth);
            left = (i, repo, ns) -> {
                Boolean a = l.eval(i, repo, ns);
                Boolean b = r.eval(i, repo, ns);
                if (Boolean.TRUE.equals(a) || Boolean.TRUE.equals(b)) {
                    return true;
                }
                return a == null || b == null ? null : false;
            };
        }
        return left;
    }

    private Expr and(int depth) {
        Expr left = not(depth);
        while (peekWord("AND")) {
            next();
            Expr l = left;
            Expr r = not(depth);
            left = (i, repo, ns) -> {
                Boolean a = l.eval(i, repo, ns);
                Boolean b = r.eval(i, repo, ns);
                if (Boolean.FALSE.equals(a) || Boolean.FALSE.equals(b)) {
                    return false;
                }
                return a == null || b == null ? null : true;
            };
        }
        return left;
    }

    private Expr not(int depth) {
        if (peekWord("NOT")) {
            next();
            Expr e = not(depth + 1);
            return (i, repo, ns) -> {
                Boolean v = e.eval(i, repo, ns);
                return v == null ? null : !v;
            };
        }
        if (accept(T.LPAREN)) {
            Expr e = or(depth + 1);
            expect(T.RPAREN);
            return e;
        }
        return predicate();
    }

    private Expr predicate() {
        Operand left = operand();
        if (peekWord("IS")) {
            next();
            boolean negate = false;
            if (peekWord("NOT")) {
                next();
                negate = true;
            }
            word("NULL");
            boolean neg = negate;
            return (i, repo, ns) -> (left.value(i) == null) != neg;
        }
        if (peekWord("ISA")) {
            next();
            String cls = name();
            return (i, repo, ns) -> {
                Object v = left.value(i);
                if (v instanceof CimInstance) {
                    return repo.isA(ns, ((CimInstance) v).className(), cls);
                }
                return v == null ? null : false;
            };
        }
        String op;
        if (peekWord("LIKE")) {
            next();
            op = "LIKE";
        } else {
            Tok t = next();
            if (t.t != T.OP) {
                throw invalid("expected a comparison after " + left.text + ", found '" + t.s + "'");
            }
            op = t.s.equals("!=") ? "<>" : t.s;
        }
        Operand right = operand();
        String o = op;
        return (i, repo, ns) -> compare(left.value(i), o, right.value(i));
    }

    private record Operand(String text, java.util.function.Function<CimInstance, Object> value) {
        Object value(CimInstance i) {
            return value.apply(i);
        }
    }

    private Operand operand() {
        Tok t = next();
        switch (t.t) {
            case STRING:
                return new Operand("'" + t.s + "'", i -> t.s);
            case NUMBER: {
                Object n = t.s.contains(".") || t.s.toLowerCase(Locale.ROOT).contains("e") ? (Object) Double.parseDouble(t.s)
                        : (Object) Long.parseLong(t.s);
                return new Operand(t.s, i -> n);
            }
            case WORD: {
                if (t.s.equalsIgnoreCase("TRUE") || t.s.equalsIgnoreCase("FALSE")) {
                    Boolean b = Boolean.valueOf(t.s.toLowerCase(Locale.ROOT));
                    return new Operand(t.s, i -> b);
                }
                if (t.s.equalsIgnoreCase("NULL")) {
                    return new Operand(t.s, i -> null);
                }
                List<String> path = new ArrayList<>();
                path.add(t.s);
                while (accept(T.DOT)) {
                    path.add(name());
                }
                return new Operand(String.join(".", path), i -> property(i, path));
            }
            default:
                throw invalid("expected a property or a value, found '" + t.s + "'");
        }
    }

    private static Object property(CimInstance i, List<String> path) {
        Object v = i;
        for (String part : path) {
            if (!(v instanceof CimInstance)) {
                return null;
            }
            v = ((CimInstance) v).value(part);
        }
        return v;
    }

    private static Boolean compare(Object a, String op, Object b) {
        if (a == null || b == null) {
            return null;
        }
        if (op.equals("LIKE")) {
            return like(String.valueOf(a), String.valueOf(b));
        }
        int c;
        if (a instanceof Number && b instanceof Number) {
            c = Double.compare(((Number) a).doubleValue(), ((Number) b).doubleValue());
        } else if (a instanceof Boolean || b instanceof Boolean) {
            c = String.valueOf(a).equalsIgnoreCase(String.valueOf(b)) ? 0 : 1;
            if (!op.equals("=") && !op.equals("<>")) {
                return null;
            }
        } else if (a instanceof Number || b instanceof Number) {
            try {
                c = Double.compare(Double.parseDouble(String.valueOf(a)), Double.parseDouble(String.valueOf(b)));
            } catch (NumberFormatException e) {
                return op.equals("<>");
            }
        } else {
            c = String.valueOf(a).compareTo(String.valueOf(b));
        }
        switch (op) {
            case "=":
                return c == 0;
            case "<>":
                return c != 0;
            case "<":
                return c < 0;
            case "<=":
                return c <= 0;
            case ">":
                return c > 0;
            default:
                return c >= 0;
        }
    }

    private static boolean like(String s, String pattern) {
        StringBuilder re = new StringBuilder();
        for (char ch : pattern.toCharArray()) {
            if (ch == '%') {
                re.append(".*");
            } else if (ch == '_') {
                re.append('.');
            } else {
                re.append(Pattern.quote(String.valueOf(ch)));
            }
        }
        return Pattern.compile(re.toString(), Pattern.DOTALL).matcher(s).matches();
    }

    // ---- tokens ----

    private Tok peek() {
        return toks.get(p);
    }

    private Tok next() {
        Tok t = toks.get(p);
        if (t.t != T.END) {
            p++;
        }
        return t;
    }

    private boolean accept(T t) {
        if (peek().t == t) {
            next();
            return true;
        }
        return false;
    }

    private void expect(T t) {
        if (!accept(t)) {
            throw invalid("expected " + t + " but found '" + peek().s + "'");
        }
    }

    private boolean peekWord(String w) {
        return peek().t == T.WORD && peek().s.equalsIgnoreCase(w);
    }

    private void word(String w) {
        if (!peekWord(w)) {
            throw invalid("expected " + w + " but found '" + peek().s + "'");
        }
        next();
    }

    private String name() {
        Tok t = next();
        if (t.t != T.WORD || !Names.isName(t.s)) {
            throw invalid("expected a name but found '" + t.s + "'");
        }
        return t.s;
    }

    private static List<Tok> lex(String q) {
        List<Tok> out = new ArrayList<>();
        int i = 0;
        while (i < q.length()) {
            char c = q.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '\'' || c == '"') {
                StringBuilder b = new StringBuilder();
                i++;
                boolean closed = false;
                while (i < q.length()) {
                    char d = q.charAt(i++);
                    if (d == '\\' && i < q.length()) {
                        b.append(q.charAt(i++));
                    } else if (d == c) {
                        closed = true;
                        break;
                    } else {
                        b.append(d);
                    }
                }
                if (!closed) {
                    throw invalid("unterminated string");
                }
                out.add(new Tok(T.STRING, b.toString()));
            } else if (Character.isDigit(c) || (c == '-' && i + 1 < q.length() && Character.isDigit(q.charAt(i + 1)))) {
                int s = i++;
                while (i < q.length() && (Character.isDigit(q.charAt(i)) || q.charAt(i) == '.' || q.charAt(i) == 'e' || q.charAt(i) == 'E')) {
                    i++;
                }
                String num = q.substring(s, i);
                try {
                    Double.parseDouble(num);
                } catch (NumberFormatException e) {
                    throw invalid("'" + num + "' is not a number");
                }
                out.add(new Tok(T.NUMBER, num));
            } else if (Character.isLetter(c) || c == '_') {
                int s = i;
                while (i < q.length() && (Character.isLetterOrDigit(q.charAt(i)) || q.charAt(i) == '_')) {
                    i++;
                }
                out.add(new Tok(T.WORD, q.substring(s, i)));
            } else if (c == '(') {
                out.add(new Tok(T.LPAREN, "("));
                i++;
            } else if (c == ')') {
                out.add(new Tok(T.RPAREN, ")"));
                i++;
            } else if (c == ',') {
                out.add(new Tok(T.COMMA, ","));
                i++;
            } else if (c == '*') {
                out.add(new Tok(T.STAR, "*"));
                i++;
            } else if (c == '.') {
                out.add(new Tok(T.DOT, "."));
                i++;
            } else if (c == '=' ) {
                out.add(new Tok(T.OP, "="));
                i++;
            } else if (c == '<' || c == '>' || c == '!') {
                String op = i + 1 < q.length() && (q.charAt(i + 1) == '=' || (c == '<' && q.charAt(i + 1) == '>'))
                        ? q.substring(i, i + 2) : String.valueOf(c);
                if (op.equals("!")) {
                    throw invalid("'!' must be followed by '='");
                }
                out.add(new Tok(T.OP, op));
                i += op.length();
            } else {
                throw invalid("unexpected character '" + c + "'");
            }
        }
        out.add(new Tok(T.END, "the end"));
        return out;
    }

    private static CimException invalid(String why) {
        return new CimException(CimStatus.INVALID_QUERY, "invalid query: " + why);
    }
}
