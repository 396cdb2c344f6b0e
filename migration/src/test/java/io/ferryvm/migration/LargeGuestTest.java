package io.ferryvm.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.guest.Workload;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A 4 GiB guest (memory is mapped on demand: mostly zero pages) over TCP with two channels. */
class LargeGuestTest {
    private static final long MEM = 4L << 30;

    @TempDir
    Path dir;

    @Test
    void aFourGibGuestMatchesItsTwin() {
        try (TwoHosts h = new TwoHosts(dir, new TcpTransport())) {
            Workload w = new Workload.HotSet(3L << 30, 32 << 20, 1.0, 64, 9); // a hot set near the top of memory
            UUID vm = h.start("big", 2, MEM, w);
            h.awaitSteps(vm, 5000);
            MigrationReport r = h.migrate(vm, MigrationRequest.defaults().withChannels(2));
            assertTrue(r.succeeded(), r.toLogLine());
            assertEquals(MEM, r.memoryBytes());
            assertTrue(r.pages(CodecId.ZERO) > MEM / 4096 * 9 / 10, "mostly zero pages: " + r.toLogLine());
            Guests.assertTwinDigest(h.target, vm, w, MEM, 2, 2000);
        }
    }
}
