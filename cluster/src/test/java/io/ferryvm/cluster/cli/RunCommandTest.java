package io.ferryvm.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `ferry run`: the single-host job ends with a verified restore and exit code 0. */
class RunCommandTest {
    @Test
    void runSavesRestoresAndVerifies(@TempDir Path dir) {
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            code = Ferry.execute("run", "--seconds", "1", "--memory", "64M", "--working-set", "16M", "--state-dir", dir.toString());
        } finally {
            System.setOut(old);
        }
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, text);
        assertTrue(text.contains("t=1s"), text);
        assertTrue(text.contains("OK: guest resumed after restore with identical memory and state"), text);
    }

    @Test
    void badArgumentsGetAClearErrorNotAStackTrace() {
        PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            code = Ferry.execute("run", "--memory", "12Q");
        } finally {
            System.setErr(old);
        }
        String text = err.toString(StandardCharsets.UTF_8);
        assertTrue(code != 0);
        assertTrue(text.contains("'12Q' is not a size"), text);
        assertTrue(!text.contains("\tat "), "no stack trace: " + text);
    }
}
