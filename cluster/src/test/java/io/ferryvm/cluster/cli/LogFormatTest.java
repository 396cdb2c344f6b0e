package io.ferryvm.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The product's logback configuration in a fresh JVM: the migration report line shows at the default
 * level, and --log-format json turns every line into one JSON object.
 */
class LogFormatTest {
    /** Logs like a node at the end of a migration, after the CLI took its global options. */
    public static final class Emit {
        public static void main(String[] args) {
            Ferry.logFormat(args);
            org.slf4j.LoggerFactory.getLogger("ferry.migration").info("migration 1234 vm=web host1->host2 OK total=10ms");
            org.slf4j.LoggerFactory.getLogger("io.ferryvm.cluster.Something").info("not shown at the default WARN level");
        }
    }

    private static String run(String... args) throws Exception {
        // The product's logback.xml, named explicitly: engine-core's test jar on this classpath brings a logback-test.xml.
        java.net.URL config = LogFormatTest.class.getClassLoader().getResource("logback.xml");
        List<String> cmd = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dlogback.configurationFile=" + config, "-cp", System.getProperty("java.class.path"), Emit.class.getName()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove("FERRY_LOG_FORMAT");
        pb.environment().remove("FERRY_LOG_LEVEL");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    @Test
    void textByDefaultJsonOnRequest() throws Exception {
        String text = run();
        assertTrue(text.contains("INFO  ferry.migration - migration 1234 vm=web host1->host2 OK"), text);
        assertTrue(!text.contains("not shown"), text);

        String json = run("--log-format", "json");
        List<String> lines = json.lines().filter(l -> !l.isBlank()).toList();
        assertEquals(1, lines.size(), json);
        JsonNode o = new ObjectMapper().readTree(lines.get(0));
        assertEquals("ferry.migration", o.get("loggerName").asText(), json);
        assertEquals("INFO", o.get("level").asText(), json);
        assertTrue(o.get("message").asText().startsWith("migration 1234 vm=web"), json);
    }
}
