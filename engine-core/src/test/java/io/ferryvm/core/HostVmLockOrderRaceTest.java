package io.ferryvm.core;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.host.HostInventory;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chaos schedule "load" (chaos-tests LoadChaosIT, four concurrent migrations): a node froze for good. One
 * migration thread held the host's lock in prepareIncoming and asked every VM its name (each VM's lock);
 * another held a VM's lock in completeMigrationOut and waited for the host's lock to forget it. The host now
 * reads names without VM locks, and VMs leave the host outside their own lock (order: host, then VM).
 */
class HostVmLockOrderRaceTest {
    @TempDir
    Path dir;

    private Host host() {
        return Host.open(new HostConfig("h", dir, HostInventory.declared("h", 1, 2, 1, 1L << 30), null, null));
    }

    private static VmSpec spec(String name) {
        return VmSpec.of(name, 1, 4L << 20, new Workload.PageWalk(0, 0, 0));
    }

    @Test
    void theHostCheckingNamesNeverWaitsOnABusyVm() {
        try (Host h = host()) {
            VmSpec busy = spec("busy");
            h.define(busy);
            Vm vm = h.vm(busy.id());
            synchronized (vm) { // the VM is in the middle of a long operation (a migration's confirm, say)
                CompletableFuture<VmInfo> other = CompletableFuture.supplyAsync(() -> h.define(spec("other")));
                assertDoesNotThrow(() -> other.get(30, TimeUnit.SECONDS), "defining a VM waited on another VM's lock");
            }
        }
    }

    @Test
    void aVmLeavingTheHostHoldsNoVmLockWhileItWaitsForTheHost() {
        try (Host h = host()) {
            VmSpec s = spec("leaving");
            Vm in = h.prepareIncoming(s);
            CompletableFuture<Void> leaving;
            synchronized (h) { // the host is busy (prepareIncoming of another VM, say)
                leaving = CompletableFuture.runAsync(in::abortMigrationIn);
                // while the VM waits for the host, its own lock is free: the host's next step may take it
                CompletableFuture<VmStatus> status = CompletableFuture.supplyAsync(in::status);
                assertDoesNotThrow(() -> status.get(30, TimeUnit.SECONDS), "the leaving VM held its lock while waiting for the host");
            }
            assertDoesNotThrow(() -> leaving.get(30, TimeUnit.SECONDS));
            assertFalse(h.has(s.id()));
        }
    }
}
