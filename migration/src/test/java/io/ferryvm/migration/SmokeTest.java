package io.ferryvm.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.VmStatus;
import io.ferryvm.core.guest.PageWalkCheck;
import io.ferryvm.core.guest.Workload;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SmokeTest {
    @TempDir
    Path dir;

    @Test
    void pagewalk() {
        try (TwoHosts h = new TwoHosts(dir)) {
            Workload.PageWalk w = new Workload.PageWalk(1 << 20, 8 << 20, 50);
            UUID vm = h.start("walk", 1, 32 << 20, w);
            h.awaitSteps(vm, 5000);
            MigrationReport r = h.migrate(vm, MigrationRequest.defaults());
            System.out.println(r.toLogLine());
            assertTrue(r.succeeded(), r.toLogLine());
            assertEquals(VmStatus.RUNNING, h.target.vm(vm).status());
            h.target.pause(vm);
            PageWalkCheck.Result res = PageWalkCheck.memoryRule(h.target.vm(vm).machine().memory(), w, 1);
            assertTrue(res.ok(), res.toString());
        }
    }
}
