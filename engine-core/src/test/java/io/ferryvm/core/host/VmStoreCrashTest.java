package io.ferryvm.core.host;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.VmStatus;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of a real process in the middle of rewriting a VM definition, again and again: the file left is
 * always the old or the new definition, never a torn one, and never older than the last acknowledged write.
 */
class VmStoreCrashTest {
    @Test
    void killMidWriteLeavesTheOldOrTheNewFile(@TempDir Path dir) throws Exception {
        UUID id = UUID.randomUUID();
        SplittableRandom r = new SplittableRandom(7);
        for (int round = 0; round < 4; round++) {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), VmStoreWriterMain.class.getName(),
                    dir.toString(), id.toString()).redirectErrorStream(true).start();
            AtomicLong acked = new AtomicLong(-1);
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line = in.readLine(); line != null; line = in.readLine()) {
                        if (line.matches("\\d+")) {
                            acked.set(Long.parseLong(line));
                        }
                    }
                } catch (java.io.IOException e) {
                    // the process died: that is the point
                }
            });
            reader.start();
            long target = 20 + r.nextInt(120);
            await().atMost(Duration.ofMinutes(1)).until(() -> acked.get() >= target || !p.isAlive());
            assertTrue(p.isAlive(), "the writer ran until killed");
            p.toHandle().destroyForcibly(); // SIGKILL; unlike Process.destroy it keeps the pipe readable
            p.waitFor();
            reader.join();
            long lastAcked = acked.get();

            List<VmStore.Entry> entries = new VmStore(dir).loadAll();
            assertEquals(1, entries.size(), "round " + round + ": exactly the one definition");
            VmStore.Entry e = entries.get(0);
            assertEquals(id, e.spec().id());
            assertEquals(VmStatus.DEFINED, e.status());
            long gen = Long.parseLong(e.spec().metadata().get("generation"));
            assertEquals("gen-" + gen, e.spec().name(), "a consistent definition");
            assertTrue(gen >= lastAcked && gen <= lastAcked + 1, "round " + round + ": generation " + gen
                    + " but " + lastAcked + " was acknowledged");
            try (var s = Files.list(dir.resolve("vms"))) {
                assertTrue(s.noneMatch(AtomicFiles::isTemp), "temp files of the killed write were swept");
            }
        }
    }
}
