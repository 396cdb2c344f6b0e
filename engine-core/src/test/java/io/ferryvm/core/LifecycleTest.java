package io.ferryvm.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.host.HostInventory;
import io.ferryvm.core.host.VmStore;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every lifecycle request from every status: legal ones do what the table says, illegal ones change nothing. */
class LifecycleTest {
    @TempDir
    Path dir;

    private Host host() {
        return Host.open(new HostConfig("h", dir, HostInventory.declared("h", 1, 2, 1, 1L << 30), null, null));
    }

    /** Brings a fresh VM to the given status through legal requests. */
    private static UUID vmIn(Host h, VmStatus s) {
        VmSpec spec = VmSpec.of("vm-" + s.name().toLowerCase() + "-" + UUID.randomUUID().toString().substring(0, 8), 1, 4L << 20,
                new Workload.PageWalk(0, 0, 0));
        h.define(spec);
        UUID id = spec.id();
        switch (s) {
            case DEFINED -> { }
            case RUNNING -> h.start(id);
            case PAUSED -> {
                h.start(id);
                h.pause(id);
            }
            case STOPPED -> {
                h.start(id);
                h.stop(id);
            }
            case MIGRATING -> {
                h.start(id);
                h.vm(id).beginMigrationOut();
            }
        }
        assertEquals(s, h.info(id).status());
        return id;
    }

    private void apply(Host h, UUID id, VmAction a) {
        Vm vm = h.vm(id);
        switch (a) {
            case START -> h.start(id);
            case PAUSE -> h.pause(id);
            case RESUME -> h.resume(id);
            case STOP -> h.stop(id);
            case SAVE -> h.save(id, dir.resolve(id + ".save"));
            case RESTORE -> h.restore(saveFileOf(vm.spec()), false);
            case UNDEFINE -> h.undefine(id);
            case MIGRATE_OUT -> vm.beginMigrationOut();
            case MIGRATE_OUT_ABORT -> vm.abortMigrationOut();
            case MIGRATE_OUT_DONE -> vm.completeMigrationOut();
            case MIGRATE_OUT_LOST -> vm.loseMigrationOut();
            case MIGRATE_IN_DONE -> vm.completeMigrationIn(null, false);
            case MIGRATE_IN_ABORT -> vm.abortMigrationIn();
        }
    }

    /** A real save file of a VM with this definition, made on another host. */
    private Path saveFileOf(VmSpec spec) {
        Path other = dir.resolve("other-" + spec.id());
        Path file = dir.resolve(spec.id() + "-other.save");
        try (Host o = Host.open(new HostConfig("o", other, HostInventory.declared("o", 1, 2, 1, 1L << 30), null, null))) {
            o.define(spec);
            o.start(spec.id());
            o.save(spec.id(), file);
        }
        return file;
    }

    @Test
    void illegalRequestsAreRefusedWithAReasonAndChangeNothing() {
        try (Host h = host()) {
            int refused = 0;
            for (VmStatus s : VmStatus.values()) {
                for (VmAction a : VmAction.values()) {
                    if (Lifecycle.isLegal(s, a)) {
                        continue;
                    }
                    UUID id = vmIn(h, s);
                    VmSpec before = h.vm(id).spec();
                    long steps = h.info(id).steps();
                    CoreException e = assertThrows(CoreException.class, () -> apply(h, id, a), s + " + " + a);
                    assertEquals(CoreException.Kind.ILLEGAL_TRANSITION, e.kind(), s + " + " + a + ": " + e.getMessage());
                    assertTrue(e.getMessage().contains(s.name().toLowerCase()), "the reason names the status: " + e.getMessage());
                    assertEquals(s, h.info(id).status(), "status unchanged after refused " + a);
                    assertEquals(before, h.vm(id).spec());
                    assertTrue(h.info(id).steps() >= steps);
                    refused++;
                }
            }
            assertTrue(refused >= 40, "every illegal pair was tried: " + refused);
        }
    }

    @Test
    void legalRequestsLeadWhereTheTableSays() {
        try (Host h = host()) {
            UUID id = vmIn(h, VmStatus.DEFINED);
            h.start(id);
            assertEquals(VmStatus.RUNNING, h.info(id).status());
            h.pause(id);
            assertEquals(VmStatus.PAUSED, h.info(id).status());
            h.vm(id).beginMigrationOut();
            assertEquals(VmStatus.MIGRATING, h.info(id).status());
            h.vm(id).abortMigrationOut();
            assertEquals(VmStatus.PAUSED, h.info(id).status(), "an aborted migration returns to the status before");
            h.resume(id);
            h.vm(id).beginMigrationOut();
            h.vm(id).abortMigrationOut();
            assertEquals(VmStatus.RUNNING, h.info(id).status());
            h.stop(id);
            assertEquals(VmStatus.STOPPED, h.info(id).status());
            h.start(id);
            h.vm(id).beginMigrationOut();
            h.vm(id).completeMigrationOut();
            assertTrue(!h.has(id), "a migrated-away VM leaves the source");
            UUID other = vmIn(h, VmStatus.STOPPED);
            h.undefine(other);
            assertTrue(!h.has(other));
        }
    }

    @Test
    void migrationRequestsOfTheOtherDirectionAreRefused() {
        try (Host h = host()) {
            UUID out = vmIn(h, VmStatus.MIGRATING);
            for (VmAction a : new VmAction[] {VmAction.MIGRATE_IN_DONE, VmAction.MIGRATE_IN_ABORT}) {
                CoreException e = assertThrows(CoreException.class, () -> apply(h, out, a));
                assertEquals(CoreException.Kind.ILLEGAL_TRANSITION, e.kind(), e.getMessage());
                assertEquals(VmStatus.MIGRATING, h.info(out).status());
            }
            VmSpec spec = VmSpec.of("incoming", 1, 4L << 20, new Workload.Idle());
            Vm in = h.prepareIncoming(spec);
            for (VmAction a : new VmAction[] {VmAction.MIGRATE_OUT_ABORT, VmAction.MIGRATE_OUT_DONE}) {
                CoreException e = assertThrows(CoreException.class, () -> apply(h, spec.id(), a));
                assertEquals(CoreException.Kind.ILLEGAL_TRANSITION, e.kind(), e.getMessage());
                assertTrue(in.isMigratingIn());
            }
            in.abortMigrationIn();
            assertTrue(!h.has(spec.id()), "an aborted incoming VM leaves nothing behind");
            h.vm(out).abortMigrationOut();
            assertEquals(VmStatus.RUNNING, h.info(out).status());
        }
    }

    @Test
    void statusIsPersistedAndActiveVmsComeBackStopped() {
        UUID running;
        UUID defined;
        try (Host h = host()) {
            running = vmIn(h, VmStatus.RUNNING);
            defined = vmIn(h, VmStatus.DEFINED);
        }
        try (Host h = host()) {
            assertEquals(VmStatus.STOPPED, h.info(running).status(), "its memory did not survive the host");
            assertEquals(VmStatus.DEFINED, h.info(defined).status());
            h.start(running);
            assertEquals(VmStatus.RUNNING, h.info(running).status());
        }
        assertEquals(EnumSet.of(VmStatus.RUNNING, VmStatus.DEFINED),
                EnumSet.copyOf(new VmStore(dir).loadAll().stream().map(VmStore.Entry::status).toList()));
    }

    @Test
    void aRunningGuestReportsItsDirtyRateAndAStoppedOneNone() {
        try (Host h = host()) {
            VmSpec spec = VmSpec.of("writer", 1, 4L << 20, new Workload.PageWalk(0, 0, 4));
            h.define(spec);
            h.start(spec.id());
            // The pagewalk guest is paced at 4 MiB/s: the meter sees page writes, never more than a burst's worth.
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                    .until(() -> h.info(spec.id()).dirtyRateMiBps() > 0);
            assertTrue(h.info(spec.id()).dirtyRateMiBps() < 64, "rate " + h.info(spec.id()).dirtyRateMiBps());
            h.pause(spec.id());
            assertEquals(0, h.info(spec.id()).dirtyRateMiBps());
            h.stop(spec.id());
            assertEquals(0, h.info(spec.id()).dirtyRateMiBps());
        }
    }
}
