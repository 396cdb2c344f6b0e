package io.ferryvm.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmStatus;
import io.ferryvm.core.machine.Binding;
import io.ferryvm.migration.HypervisorMigration;
import io.ferryvm.migration.Transport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * The target half of a QEMU migration on this host: a QEMU started paused with {@code -incoming defer} and
 * pinned, its migration capabilities set, listening on {@code tcp:127.0.0.1:0} (DIRECT) or on a unix
 * socket fed by Ferry's tunnel receiver (TUNNELLED, on the given transport with a 128-bit one-time token).
 * It runs in whichever process is the target host; the source reaches it as a {@link HypervisorMigration.Target}.
 */
public final class QemuIncoming implements HypervisorMigration.Target {
    private static final SecureRandom RANDOM = new SecureRandom();
    /** How long finish waits for the target QEMU's completion once the source's side is done. */
    private static final Duration FINISH_WAIT = Duration.ofMinutes(1);

    private final QemuGuest guest;
    private final CompletableFuture<QmpEvent> done;
    private final CompletableFuture<QmpEvent> resumed;
    private HypervisorMigration.Offer offer;
    private Tunnel.Receiver receiver;

    private QemuIncoming(QemuGuest guest) {
        this.guest = guest;
        // Registered before anything runs: in post-copy the target resumes long before the source completes.
        this.done = guest.qmp().nextEvent(e -> e.name().equals("MIGRATION") && QemuMigration.TERMINAL.contains(e.data().path("status").asText()));
        this.resumed = guest.qmp().nextEvent(e -> e.name().equals("RESUME"));
    }

    /** Prepare: starts the incoming QEMU for spec (paused, pinned) and its listener; on failure nothing is left running. */
    public static QemuIncoming prepare(QemuDriver driver, VmSpec spec, Binding binding, QemuMigrationOptions options, Transport transport) {
        QemuGuest g = driver.prepareIncoming(spec, binding, options.preallocate());
        QemuIncoming in = null;
        try {
            in = new QemuIncoming(g);
            QemuMigration.capabilities(g.qmp(), options, false);
            if (options.multifdChannels() > 0) {
                ObjectNode p = QmpClient.args();
                p.put("multifd-channels", options.multifdChannels());
                g.qmp().execute("migrate-set-parameters", p);
            }
            if (options.mode() == QemuMigrationOptions.Mode.DIRECT) {
                in.incoming("tcp:127.0.0.1:0");
                JsonNode addr = g.qmp().execute("query-migrate", null).path("socket-address");
                if (!addr.isArray() || addr.isEmpty()) {
                    throw new QemuException(QemuException.Kind.PROTOCOL, g.name() + ": query-migrate on the target names no listening address");
                }
                in.offer = new HypervisorMigration.Offer("tcp:" + addr.get(0).path("host").asText() + ":" + addr.get(0).path("port").asText(), null, null);
            } else {
                Path sock = g.socket("incoming");
                Files.deleteIfExists(sock);
                in.incoming("unix:" + sock);
                byte[] token = new byte[TunnelWire.TOKEN_BYTES];
                RANDOM.nextBytes(token);
                in.receiver = new Tunnel.Receiver(transport.listen("qemu-" + spec.name()), token, sock);
                in.offer = new HypervisorMigration.Offer(null, in.receiver.endpoint(), token);
            }
            return in;
        } catch (IOException | RuntimeException e) {
            if (in != null) {
                in.abort();
            } else {
                g.destroy();
            }
            throw e instanceof QemuException q ? q
                    : new QemuException(QemuException.Kind.MIGRATION, spec.name() + ": prepare on the target failed: " + e.getMessage(), e);
        }
    }

    /** The incoming guest. */
    public QemuGuest guest() {
        return guest;
    }

    @Override
    public HypervisorMigration.Offer offer() {
        return offer;
    }

    @Override
    public void postcopyStarted() {
        CompletableFuture<QmpEvent> active = guest.qmp().nextEvent(e -> e.name().equals("MIGRATION")
                && (e.data().path("status").asText().equals("postcopy-active") || QemuMigration.TERMINAL.contains(e.data().path("status").asText())));
        String st = guest.qmp().execute("query-migrate", null).path("status").asText();
        if (!st.equals("postcopy-active") && !QemuMigration.TERMINAL.contains(st)) {
            guest.qmp().await(active, "post-copy start on the target");
        }
        // Started with -S: in post-copy the target must run for its faults to pull pages.
        if (guest.status() != VmStatus.STOPPED) {
            guest.resume();
        }
    }

    @Override
    public long finish(boolean resume) {
        // The target's QEMU must have loaded everything before it may run.
        String status = guest.qmp().await(done, "target's end of migration", FINISH_WAIT).data().path("status").asText();
        if (!status.equals("completed")) {
            throw new QemuException(QemuException.Kind.MIGRATION, guest.name() + ": target QEMU reports " + status);
        }
        if (receiver != null) {
            guest.qmp().await(receiver.done(), "end of the tunnel's receive side", FINISH_WAIT);
        }
        if (!resume) {
            return -1;
        }
        if (guest.status() != VmStatus.RUNNING) {
            guest.resume();
        }
        return guest.qmp().await(resumed, "RESUME on the target").timestampMicros();
    }

    @Override
    public void abort() {
        if (receiver != null) {
            receiver.close();
        }
        guest.destroy();
    }

    private void incoming(String uri) {
        ObjectNode a = QmpClient.args();
        a.put("uri", uri);
        guest.qmp().execute("migrate-incoming", a);
    }
}
