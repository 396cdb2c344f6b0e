package io.ferryvm.chaos;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The cluster's boundary: three nodes with certificates from the cluster's authority, talking Artery over
 * mutual TLS and migrating over mutual TLS. A process that is not a member, with no certificate, a
 * certificate from another authority, or no TLS at all, cannot join; a stranger cannot open a migration
 * channel to a target's listener, nor push anything through it; even a holder of a member's certificate
 * gets nowhere without the migration's one-time token. Meanwhile real migrations go through, guests intact.
 */
class ClusterSecurityIT {
    static Path stores;
    static Certificates.Authority clusterCa;
    static Certificates.Authority rogueCa;
    static ChaosCluster cluster;
    static final List<Node> outsiders = new ArrayList<>();

    static Path keyStore(String n) {
        return stores.resolve(n + ".p12");
    }

    static Path trustStore(String n) {
        return stores.resolve(n + "-trust.p12");
    }

    @BeforeAll
    static void tlsCluster() {
        stores = Chaos.runDir().resolve("tls-stores-" + UUID.randomUUID().toString().substring(0, 8));
        clusterCa = Certificates.authority("ferry-cluster-ca");
        rogueCa = Certificates.authority("ferry-cluster-ca"); // same name, other key: names prove nothing
        for (String n : List.of("host1", "host2", "host3")) {
            Certificates.node(clusterCa, n, keyStore(n), trustStore(n));
        }
        Certificates.node(rogueCa, "intruder", keyStore("rogue"), trustStore("rogue"));
        Certificates.node(clusterCa, "harness", keyStore("member-cert-holder"), trustStore("member-cert-holder"));
        cluster = new ChaosCluster("tls", 3, n -> List.of("--tls-keystore", keyStore(n.name).toString(), "--tls-truststore",
                trustStore(n.name).toString()), Map.of("FERRY_TLS_PASSWORD", Certificates.PASSWORD)).start();
    }

    @AfterAll
    static void stop() {
        outsiders.forEach(o -> {
            if (o.alive()) {
                o.kill9();
            }
        });
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aMigrationOverTlsKeepsTheGuestIntact() {
        ChaosCluster.TrackedVm g = cluster.define("tls-walker", "32M", ChaosCluster.pagewalk(8), false, "host1");
        await().atMost(Duration.ofMinutes(1)).until(() -> cluster.api().get("/api/vms/" + g.id).get("info").get("steps").asLong() > 0);
        Optional<JsonNode> s = Migrations.awaitSummary(cluster, Migrations.start(cluster.api(), g, "host2", Migrations.QUICK),
                Duration.ofMinutes(1));
        assertTrue(s.orElseThrow().get("success").asBoolean(), "over TLS: " + s);
        Summary.RUN.migration("completed");
        assertEquals(List.of(), new Invariants(cluster).check("migration over TLS", List.of(g)));
        cluster.remove(g);
    }

    @Test
    void processesWithoutTheClustersCertificateCannotJoin() {
        Node rogue = Node.outsider("rogue", cluster.network.harnessAddress(), cluster.dir);
        Node plain = Node.outsider("plain", cluster.network.harnessAddress(), cluster.dir);
        outsiders.add(rogue);
        outsiders.add(plain);
        rogue.start(cluster.seeds(), List.of("--tls-keystore", keyStore("rogue").toString(), "--tls-truststore",
                trustStore("rogue").toString()), Map.of("FERRY_TLS_PASSWORD", Certificates.PASSWORD));
        if (Chaos.SOAK) {
            plain.start(cluster.seeds(), List.of(), Map.of()); // the default run tries the other authority only (a JVM less)
        }
        Summary.RUN.fault("join attempt with another authority's certificate");
        if (Chaos.SOAK) {
            Summary.RUN.fault("join attempt without TLS");
        }
        // both get up and knock for a while; no member ever lists them
        await().atMost(Duration.ofMinutes(2)).ignoreExceptions().until(() -> rogue.alive() && rogue.tail(200).contains("up at")
                && (!Chaos.SOAK || (plain.alive() && plain.tail(200).contains("up at"))));
        await().during(Chaos.pick(Duration.ofSeconds(8), Duration.ofSeconds(30))).atMost(Duration.ofSeconds(45)).until(() -> {
            for (Node m : cluster.nodes) {
                for (JsonNode h : m.api.get("/api/hosts")) {
                    String name = h.get("host").asText();
                    if (name.equals("rogue") || name.equals("plain")) {
                        return false;
                    }
                }
                if (ChaosCluster.hostsUp(m) != 3) {
                    return false;
                }
            }
            return true;
        });
        rogue.kill9();
        plain.kill9();
    }

    /**
     * During a slow real migration the harness learns the target's listener from its proxy and knocks: plain
     * TCP with a HELLO, TLS with no certificate, TLS with the rogue authority's, and TLS with a member's
     * certificate but a made-up token. None gets an ACK; the migration completes; the guest is intact.
     */
    @Test
    void strangersCannotOpenAMigrationChannelNorPushPages() throws Exception {
        ChaosCluster.TrackedVm g = cluster.define("tls-target-of-knocks", "32M", ChaosCluster.pagewalk(8), false, "host2");
        await().atMost(Duration.ofMinutes(1)).until(() -> cluster.api().get("/api/vms/" + g.id).get("info").get("steps").asLong() > 0);
        int seen = cluster.proxy.connects().size();
        long flowed = cluster.proxy.bytesToTargets();
        String id = Migrations.start(cluster.api(), g, "host3", Migrations.options(4, true, false, 30, 10, "none"));
        Migrations.awaitFlow(cluster, flowed, 64 << 10);
        FaultProxy.Connect listener = cluster.proxy.connects().get(seen);
        byte[] hello = Frames.hello(2, UUID.fromString(id), new byte[16], 0, 2, 32L << 20);

        assertFalse(acked(plain(listener, hello)), "plain TCP got an ACK");
        assertFalse(acked(tls(listener, hello, Certificates.context(null, trustStore("host1")))), "TLS without a certificate got an ACK");
        assertFalse(acked(tls(listener, hello, Certificates.context(keyStore("rogue"), trustStore("host1")))),
                "TLS with another authority's certificate got an ACK");
        byte[] memberAnswer = tls(listener, hello, Certificates.context(keyStore("member-cert-holder"), trustStore("member-cert-holder")));
        assertFalse(acked(memberAnswer), "a member's certificate without the token got an ACK");
        assertTrue(aborted(memberAnswer), "a member's certificate without the token is told why (ABORT)");
        Summary.RUN.fault("migration channel: plain TCP stranger");
        Summary.RUN.fault("migration channel: TLS without certificate");
        Summary.RUN.fault("migration channel: TLS with a rogue certificate");
        Summary.RUN.fault("migration channel: member certificate, forged token");
        Summary.RUN.inputs("hostile migration channels over TLS", 4);

        Optional<JsonNode> s = Migrations.awaitSummary(cluster, id, Duration.ofMinutes(2));
        assertTrue(s.orElseThrow().get("success").asBoolean(), "the real migration went through the knocking: " + s);
        Summary.RUN.migration("completed");
        assertEquals(List.of(), new Invariants(cluster).check("knocks on a TLS migration listener", List.of(g)));
        cluster.remove(g);
    }

    @Test
    void aFlippedByteUnderTlsFailsTheMigrationAndTheSourceGoesOn() {
        ChaosCluster.TrackedVm g = cluster.define("tls-flip", "32M", ChaosCluster.pagewalk(8), false, "host3");
        await().atMost(Duration.ofMinutes(1)).until(() -> cluster.api().get("/api/vms/" + g.id).get("info").get("steps").asLong() > 0);
        cluster.proxy.set(new FaultProxy.Flip(4096 + Chaos.random("tls-flip").nextInt(1 << 20), 0x10));
        Summary.RUN.fault("stream: flipped byte under TLS");
        Optional<JsonNode> s = Migrations.awaitSummary(cluster, Migrations.start(cluster.api(), g, "host1",
                Migrations.options(0, true, false, 30, 8, "none")), Duration.ofMinutes(2));
        cluster.proxy.set(new FaultProxy.Pass());
        assertFalse(s.orElseThrow().get("success").asBoolean(), "a TLS record that fails its MAC ends the channel: " + s);
        Summary.RUN.migration("failed, rolled back");
        assertEquals(List.of(), new Invariants(cluster).check("flipped byte under TLS", List.of(g)));
        cluster.remove(g);
    }

    private static boolean acked(byte[] answer) {
        for (int i = 0; i + 5 <= answer.length; i++) {
            if (java.nio.ByteBuffer.wrap(answer, i, 4).getInt() == Frames.MAGIC && answer[i + 4] == 2) {
                return true;
            }
        }
        return false;
    }

    private static boolean aborted(byte[] answer) {
        for (int i = 0; i + 5 <= answer.length; i++) {
            if (java.nio.ByteBuffer.wrap(answer, i, 4).getInt() == Frames.MAGIC && answer[i + 4] == Frames.ABORT) {
                return true;
            }
        }
        return false;
    }

    private static byte[] plain(FaultProxy.Connect l, byte[] hello) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(l.host(), l.port()), 5000);
            s.setSoTimeout(5000);
            s.getOutputStream().write(hello);
            return readSome(s.getInputStream());
        } catch (IOException refused) {
            return new byte[0];
        }
    }

    private static byte[] tls(FaultProxy.Connect l, byte[] hello, SSLContext ctx) {
        try (Socket raw = new Socket()) {
            raw.connect(new InetSocketAddress(l.host(), l.port()), 5000);
            raw.setSoTimeout(5000);
            try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(raw, l.host(), l.port(), true)) {
                s.setEnabledProtocols(new String[] {"TLSv1.3"});
                s.startHandshake();
                s.getOutputStream().write(hello);
                s.getOutputStream().flush();
                return readSome(s.getInputStream());
            }
        } catch (IOException refused) {
            return new byte[0]; // the handshake (or the first read) failed: refused
        }
    }

    private static byte[] readSome(InputStream in) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        try {
            int n;
            while ((n = in.read(buf)) > 0 && b.size() < 1 << 16) {
                b.write(buf, 0, n);
            }
        } catch (IOException closed) {
            // closed or silent: what arrived is the answer
        }
        return b.toByteArray();
    }
}
