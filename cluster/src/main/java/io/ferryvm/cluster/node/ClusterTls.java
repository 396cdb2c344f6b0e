package io.ferryvm.cluster.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.ferryvm.core.CoreException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A node's cluster certificate: its key and certificate (issued by the cluster's authority) in a PKCS#12
 * key store, and that authority in a PKCS#12 trust store. With it, cluster traffic is Artery over mutually
 * authenticated TLS 1.3 and migration channels are TLS too, so a process without a certificate from the
 * same authority can neither join the cluster nor open a migration channel.
 *
 * <p>Every member's certificate is trusted alike (no host name checks): membership is the authority's
 * signature. The password comes from the environment, never the command line (it would show in ps).
 */
public record ClusterTls(Path keyStore, Path trustStore, String password) {
    public static final String PASSWORD_ENV = "FERRY_TLS_PASSWORD";

    public ClusterTls {
        Objects.requireNonNull(keyStore, "keyStore");
        Objects.requireNonNull(trustStore, "trustStore");
        Objects.requireNonNull(password, "password");
    }

    /** The TLS context migration channels use (same material as Artery's). */
    public SSLContext sslContext() {
        try {
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(load(keyStore), password.toCharArray());
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(load(trustStore));
            SSLContext ctx = SSLContext.getInstance("TLSv1.3");
            ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new CoreException(CoreException.Kind.INVALID_SPEC, "cluster TLS material " + keyStore + " / " + trustStore
                    + " is unusable: " + e.getMessage(), e);
        }
    }

    private KeyStore load(Path p) throws GeneralSecurityException {
        try (InputStream in = Files.newInputStream(p)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(in, password.toCharArray());
            return ks;
        } catch (IOException e) {
            throw new CoreException(CoreException.Kind.IO, "cannot read key store " + p + ": " + e.getMessage(), e);
        }
    }

    /** Artery over TLS with mutual authentication, from the same stores. */
    Config pekkoConfig() {
        String engine = "pekko.remote.artery.ssl.config-ssl-engine.";
        return ConfigFactory.empty()
                .withValue("pekko.remote.artery.transport", ConfigValueFactory.fromAnyRef("tls-tcp"))
                .withValue(engine + "key-store", ConfigValueFactory.fromAnyRef(keyStore.toAbsolutePath().toString()))
                .withValue(engine + "trust-store", ConfigValueFactory.fromAnyRef(trustStore.toAbsolutePath().toString()))
                .withValue(engine + "key-store-password", ConfigValueFactory.fromAnyRef(password))
                .withValue(engine + "key-password", ConfigValueFactory.fromAnyRef(password))
                .withValue(engine + "trust-store-password", ConfigValueFactory.fromAnyRef(password))
                .withValue(engine + "protocol", ConfigValueFactory.fromAnyRef("TLSv1.3"))
                .withValue(engine + "enabled-algorithms", ConfigValueFactory.fromIterable(List.of("TLS_AES_128_GCM_SHA256",
                        "TLS_AES_256_GCM_SHA384")))
                .withValue(engine + "require-mutual-authentication", ConfigValueFactory.fromAnyRef(true))
                .withValue(engine + "hostname-verification", ConfigValueFactory.fromAnyRef(false));
    }
}
