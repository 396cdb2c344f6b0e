package io.ferryvm.cluster.cli;

import io.ferryvm.core.Host;
import io.ferryvm.core.HostConfig;
import io.ferryvm.core.Vm;
import io.ferryvm.core.VmInfo;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.host.InventoryReader;
import io.ferryvm.core.machine.DirtyLog;
import io.ferryvm.core.machine.Machine;
import io.ferryvm.core.state.SaveFile;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The single-host job: start one VM running hotset, report its state and dirty rate every second,
 * save it, restore it, verify the memory digest and the vCPU state, and exit 0.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run one VM on this host (hotset workload), save it, restore it and verify its memory.")
final class RunCommand implements Callable<Integer> {
    @Option(names = "--seconds", defaultValue = "5", description = "How long the guest runs before the save (default ${DEFAULT-VALUE}).")
    int seconds;

    @Option(names = "--vcpus", defaultValue = "2", description = "vCPUs (default ${DEFAULT-VALUE}).")
    int vcpus;

    @Option(names = "--memory", defaultValue = "256M", description = "Guest memory (default ${DEFAULT-VALUE}).")
    String memory;

    @Option(names = "--working-set", defaultValue = "64M", description = "hotset working set (default ${DEFAULT-VALUE}).")
    String workingSet;

    @Option(names = "--rate", defaultValue = "64", description = "Dirty rate limit in MiB/s, 0 = unlimited (default ${DEFAULT-VALUE}).")
    double rate;

    @Option(names = "--seed", defaultValue = "1", description = "Guest seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--state-dir", description = "Host state directory (default: a temporary one, removed afterwards).")
    Path stateDir;

    @Override
    public Integer call() throws IOException {
        PrintStream out = System.out;
        long mem = io.ferryvm.cluster.api.VmDefinition.parseSize(memory);
        long ws = io.ferryvm.cluster.api.VmDefinition.parseSize(workingSet);
        boolean temp = stateDir == null;
        Path dir = temp ? Files.createTempDirectory("ferry-run-") : stateDir;
        try (Host host = Host.open(new HostConfig("local", dir, InventoryReader.detect(), null, null))) {
            out.printf(Locale.ROOT, "host %s: %d CPUs, %d NUMA node(s), %s; state in %s%n", host.inventory().hostname(),
                    host.inventory().cpuCount(), host.inventory().nodes().size(), Sizes.human(host.inventory().totalMemory()), dir);
            VmSpec spec = VmSpec.of("run-" + seed, vcpus, mem, new Workload.HotSet(0, Math.min(ws, mem), 1.0, rate, seed));
            host.define(spec);
            host.start(spec.id());
            Vm vm = host.vm(spec.id());
            Machine machine = vm.machine();
            DirtyLog log = machine.memory().dirtyLog();
            log.start(false);
            long lastSteps = 0;
            long last = System.nanoTime();
            for (int s = 1; s <= seconds; s++) {
                LockSupport.parkNanos(last + TimeUnit.SECONDS.toNanos(1) - System.nanoTime());
                long now = System.nanoTime();
                long dirtyPages = log.harvest().count();
                VmInfo info = vm.info();
                double secs = (now - last) / 1e9;
                out.printf(Locale.ROOT, "t=%ds  %s  %s  steps=%d  writes %.1f MiB/s  dirty %.1f MiB/s (%d unique pages)%n", s,
                        info.name(), info.status(), info.steps(), (info.steps() - lastSteps) * 4096 / secs / (1 << 20),
                        dirtyPages * 4096 / secs / (1 << 20), dirtyPages);
                lastSteps = info.steps();
                last = now;
            }
            log.stop();
            host.pause(spec.id());
            long digest = machine.memory().digest();
            long steps = machine.totalSteps();
            Path file = dir.resolve(spec.name() + ".save");
            SaveFile.Stats saved = host.save(spec.id(), file);
            out.printf(Locale.ROOT, "saved %s to %s: %s on disk, %d non-zero pages, %.2f GB/s%n", Sizes.human(mem), file,
                    Sizes.human(saved.fileBytes()), saved.nonZeroPages(), saved.gigabytesPerSecond());
            long t0 = System.nanoTime();
            host.restore(file, true);
            double restoreSecs = (System.nanoTime() - t0) / 1e9;
            Machine restored = host.vm(spec.id()).machine();
            long digest2 = restored.memory().digest();
            long steps2 = restored.totalSteps();
            out.printf(Locale.ROOT, "restored in %.3f s (%.2f GB/s of guest memory); digest %016x -> %016x, steps %d -> %d%n",
                    restoreSecs, mem / restoreSecs / 1e9, digest, digest2, steps, steps2);
            if (digest != digest2 || steps != steps2) {
                out.println("FAILED: the restored guest differs from the saved one");
                return 1;
            }
            host.resume(spec.id());
            long resumedAt = restored.totalSteps();
            return finish(out, host, spec, restored, resumedAt);
        } finally {
            if (temp) {
                deleteTree(dir);
            }
        }
    }

    private static Integer finish(PrintStream out, Host host, VmSpec spec, Machine restored, long resumedAt) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (restored.totalSteps() == resumedAt && System.nanoTime() < deadline) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        boolean advanced = restored.totalSteps() > resumedAt;
        host.stop(spec.id());
        out.println(advanced ? "OK: guest resumed after restore with identical memory and state"
                : "FAILED: the restored guest did not run");
        return advanced ? 0 : 1;
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
