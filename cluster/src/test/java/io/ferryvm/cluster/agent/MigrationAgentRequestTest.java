package io.ferryvm.cluster.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.ferryvm.cluster.api.MigrationOptions;
import io.ferryvm.migration.Compression;
import io.ferryvm.migration.MigrationRequest;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** What the user's migration options (CLI, REST JSON) become in the migration module's request. */
class MigrationAgentRequestTest {

    @Test
    void everyOptionReachesTheRequest() throws Exception {
        MigrationOptions o = new ObjectMapper().readValue("""
                {"downtimeLimitMs": 150, "bandwidthMiBps": 64, "channels": 3, "compression": "xor+lz4", "autoConverge": true,
                 "postCopy": true, "maxIterations": 7, "timeoutSeconds": 20, "preallocate": true}""", MigrationOptions.class);
        MigrationRequest r = MigrationAgent.request(o);
        assertEquals(Duration.ofMillis(150), r.downtimeLimit());
        assertEquals(64L << 20, r.bandwidthBytesPerSecond());
        assertEquals(3, r.channels());
        assertEquals(Compression.XOR_LZ4, r.compression());
        assertTrue(r.autoConverge());
        assertEquals(MigrationRequest.NonConvergence.POST_COPY, r.onNonConvergence());
        assertEquals(7, r.maxIterations());
        assertEquals(Duration.ofSeconds(20), r.timeout());
        assertTrue(r.preallocate());
        assertFalse(r.stopAndCopy());
        assertTrue(DriverMigrations.options(o).preallocate(), "a QEMU target preallocates too (-mem-prealloc)");
    }

    @Test
    void omittedOptionsKeepTheirDefaults() throws Exception {
        MigrationOptions o = new ObjectMapper().readValue("{\"channels\": 2, \"maxIterations\": 30, \"downtimeLimitMs\": 300}",
                MigrationOptions.class);
        MigrationRequest r = MigrationAgent.request(o);
        assertFalse(r.preallocate(), "the target backs memory as data arrives unless asked");
        assertFalse(DriverMigrations.options(o).preallocate());
        assertEquals("tunnelled", o.hypervisorMode());
        assertEquals(Compression.LZ4, r.compression());
        assertTrue(MigrationAgent.request(new MigrationOptions(600_000, 0, 2, "none", false, false, 1, 0)).stopAndCopy(), "--no-live");
    }
}
