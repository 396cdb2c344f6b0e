package io.ferryvm.cluster.api;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4) for tests: every line is a
 * HELP or TYPE comment or a sample {@code name{label="value",...} number}; samples follow their family's
 * TYPE; a malformed line fails with its number. Returns each sample's value by its full series text.
 */
final class PromText {
    private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern SAMPLE = Pattern.compile(
            "([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(?:[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\[\\\\\"n])*\",?)*\\})? "
                    + "(-?[0-9.eE+-]+|NaN|\\+Inf|-Inf)( -?[0-9]+)?");
    private static final Pattern TYPE = Pattern.compile("# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped|info|stateset|gaugehistogram|unknown)");

    private PromText() {}

    static Map<String, Double> parse(String text) {
        Map<String, Double> samples = new LinkedHashMap<>();
        String family = null;
        int n = 0;
        for (String line : text.split("\n", -1)) {
            n++;
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("# HELP ")) {
                String name = line.substring(7).split(" ", 2)[0];
                check(NAME.matcher(name).matches(), n, line);
                continue;
            }
            if (line.startsWith("# TYPE ")) {
                Matcher m = TYPE.matcher(line);
                check(m.matches(), n, line);
                family = m.group(1);
                continue;
            }
            check(!line.startsWith("#"), n, line);
            Matcher m = SAMPLE.matcher(line);
            check(m.matches(), n, line);
            check(family != null && m.group(1).startsWith(family), n, "sample outside its family (" + family + "): " + line);
            String value = m.group(3);
            double v = value.equals("+Inf") ? Double.POSITIVE_INFINITY : value.equals("-Inf") ? Double.NEGATIVE_INFINITY
                    : Double.parseDouble(value);
            samples.put(m.group(1) + (m.group(2) == null ? "" : m.group(2)), v);
        }
        return samples;
    }

    private static void check(boolean ok, int line, String text) {
        if (!ok) {
            throw new AssertionError("not Prometheus text format at line " + line + ": " + text);
        }
    }

    /** The sum of the samples whose series starts with prefix (a family over all its labels). */
    static double sum(Map<String, Double> samples, String prefix) {
        return samples.entrySet().stream().filter(e -> e.getKey().startsWith(prefix)).mapToDouble(Map.Entry::getValue).sum();
    }
}
