package io.ferryvm.qemu;

import static org.awaitility.Awaitility.await;

import io.ferryvm.core.DiskSpec;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.machine.Binding;
import io.ferryvm.migration.HypervisorMigration;
import io.ferryvm.migration.TcpTransport;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;

/**
 * The target Ferry host of {@link QemuProcessMigrationIT}, run as its own JVM: prepares the incoming QEMU
 * guest ({@link QemuIncoming}, tunnelled, its receiver on {@code TcpTransport} at 127.0.0.1), prints its
 * offer, then serves one command per stdin line with one reply line on stdout, each prefixed
 * {@value #PREFIX} (other stdout lines are logging). Commands: {@code FINISH <resume>}, {@code POSTCOPY},
 * {@code ABORT}, {@code STATUS}, {@code CHECK} (the page-walk checks on the migrated guest), {@code QUIT}.
 * End of stdin (the test JVM went away) quits as well; quitting closes the driver, which ends QEMU.
 *
 * <pre>TargetHostMain runDir disk vmId memory walkStart walkEnd lz4</pre>
 */
final class TargetHostMain {
    static final String PREFIX = "FERRY-TARGET ";

    private TargetHostMain() {}

    public static void main(String[] args) throws Exception {
        Path run = Path.of(args[0]);
        VmSpec spec = new VmSpec(UUID.fromString(args[2]), "walker", 1, Long.parseLong(args[3]), new Workload.Idle(), null,
                List.of(new DiskSpec("boot", args[1], 1 << 20, "raw", "virtio", false)), List.of(), null, "other", null);
        long walkStart = Long.parseLong(args[4]);
        long walkEnd = Long.parseLong(args[5]);
        QemuMigrationOptions options = QemuMigrationOptions.tunnelled().withLz4(Boolean.parseBoolean(args[6]));
        try (QemuDriver driver = new QemuDriver(QemuTestSupport.tcg(run))) {
            serve(driver, spec, options, walkStart, walkEnd);
        }
        System.exit(0);
    }

    private static void serve(QemuDriver driver, VmSpec spec, QemuMigrationOptions options, long walkStart, long walkEnd) throws Exception {
        QemuIncoming in;
        try {
            in = QemuIncoming.prepare(driver, spec, Binding.NONE, options, new TcpTransport());
        } catch (QemuException e) {
            say("ERROR " + oneLine(e));
            return;
        }
        HypervisorMigration.Offer o = in.offer();
        say("OFFER " + o.tunnel().transport() + " " + o.tunnel().address() + " " + HexFormat.of().formatHex(o.token()));
        BufferedReader r = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = r.readLine(); line != null; line = r.readLine()) {
            String[] w = line.strip().split(" ");
            try {
                switch (w[0]) {
                    case "FINISH" -> say("FINISHED " + in.finish(Boolean.parseBoolean(w[1])));
                    case "POSTCOPY" -> {
                        in.postcopyStarted();
                        say("POSTCOPY-STARTED");
                    }
                    case "ABORT" -> {
                        in.abort();
                        say("ABORTED");
                    }
                    case "STATUS" -> say("STATUS " + in.guest().status() + " " + in.guest().pid());
                    case "CHECK" -> say(check(in.guest(), walkStart, walkEnd));
                    case "QUIT" -> {
                        return;
                    }
                    default -> say("ERROR unknown command " + w[0]);
                }
            } catch (RuntimeException e) {
                say("ERROR " + oneLine(e));
            }
        }
    }

    /**
     * The migrated guest walks on (a 'B' after migration), did not reboot (no second banner: the banner
     * is printed only at boot), and, paused, its walk range keeps QEMU's page-walk rule.
     */
    private static String check(QemuGuest g, long walkStart, long walkEnd) {
        await().atMost(Duration.ofSeconds(60)).until(() -> g.serialOutput().contains("B"));
        boolean rebooted = g.serialOutput().contains(PageWalkGuest.BANNER);
        g.pause();
        Path dump = g.directory().resolve("walk.mem");
        g.saveMemory(walkStart, walkEnd - walkStart, dump);
        PageWalkRule.Result result = PageWalkRule.checkDump(dump, (int) ((walkEnd - walkStart) / 4096));
        return "CHECK " + (result.ok() && !rebooted ? "ok" : "bad") + " rebooted=" + rebooted + " qemu-pid=" + g.pid()
                + " violations=" + oneLine(String.valueOf(result.violations()));
    }

    private static void say(String reply) {
        System.out.println(PREFIX + reply);
        System.out.flush();
    }

    private static String oneLine(Throwable e) {
        return oneLine(e.getClass().getSimpleName() + ": " + e.getMessage());
    }

    private static String oneLine(String s) {
        return s.replace('\n', ' ').replace('\r', ' ');
    }
}
