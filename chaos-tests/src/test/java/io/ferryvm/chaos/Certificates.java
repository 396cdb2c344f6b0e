package io.ferryvm.chaos;

import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Cluster certificates for the security suite: an authority (the cluster's, or a rogue one), and node
 * certificates it issues, written as the PKCS#12 key and trust stores {@code ferry node --tls-keystore
 * --tls-truststore} reads. EC P-256, valid for a day.
 */
final class Certificates {
    static final String PASSWORD = "chaos-not-a-secret";
    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

    /** An issuing authority. */
    record Authority(String name, KeyPair keys, X509Certificate cert) {}

    private Certificates() {}

    static Authority authority(String cn) {
        KeyPair k = keys();
        X500Name n = new X500Name("CN=" + cn);
        try {
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(n, BigInteger.valueOf(SERIAL.incrementAndGet()), notBefore(),
                    notAfter(), n, k.getPublic());
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            return new Authority(cn, k, sign(b, k));
        } catch (IOException e) {
            throw new ChaosException("authority " + cn + ": " + e.getMessage(), e);
        }
    }

    /** A node certificate issued by ca, in keyStore, and ca alone in trustStore (both PKCS#12, {@link #PASSWORD}). */
    static void node(Authority ca, String cn, Path keyStore, Path trustStore) {
        KeyPair k = keys();
        try {
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(ca.cert(), BigInteger.valueOf(SERIAL.incrementAndGet()),
                    notBefore(), notAfter(), new X500Name("CN=" + cn), k.getPublic());
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
            b.addExtension(Extension.extendedKeyUsage, false,
                    new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
            X509Certificate cert = sign(b, ca.keys());
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("node", k.getPrivate(), PASSWORD.toCharArray(), new X509Certificate[] {cert, ca.cert()});
            store(ks, keyStore);
            KeyStore ts = KeyStore.getInstance("PKCS12");
            ts.load(null, null);
            ts.setCertificateEntry("cluster-ca", ca.cert());
            store(ts, trustStore);
        } catch (IOException | GeneralSecurityException e) {
            throw new ChaosException("node certificate " + cn + ": " + e.getMessage(), e);
        }
    }

    /** A TLS context from stores written by {@link #node}; with keyStore null, one that presents no certificate. */
    static SSLContext context(Path keyStore, Path trustStore) {
        try {
            KeyManagerFactory kmf = null;
            if (keyStore != null) {
                KeyStore ks = KeyStore.getInstance("PKCS12");
                try (var in = Files.newInputStream(keyStore)) {
                    ks.load(in, PASSWORD.toCharArray());
                }
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(ks, PASSWORD.toCharArray());
            }
            KeyStore ts = KeyStore.getInstance("PKCS12");
            try (var in = Files.newInputStream(trustStore)) {
                ts.load(in, PASSWORD.toCharArray());
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ts);
            SSLContext c = SSLContext.getInstance("TLSv1.3");
            c.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            return c;
        } catch (IOException | GeneralSecurityException e) {
            throw new ChaosException("TLS context: " + e.getMessage(), e);
        }
    }

    private static void store(KeyStore ks, Path p) throws IOException, GeneralSecurityException {
        Files.createDirectories(p.getParent());
        try (OutputStream o = Files.newOutputStream(p)) {
            ks.store(o, PASSWORD.toCharArray());
        }
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, KeyPair issuer) {
        try {
            return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA")
                    .build(issuer.getPrivate())));
        } catch (GeneralSecurityException | org.bouncycastle.operator.OperatorCreationException e) {
            throw new ChaosException("signing: " + e.getMessage(), e);
        }
    }

    private static KeyPair keys() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new ChaosException("EC keys: " + e.getMessage(), e);
        }
    }

    private static Date notBefore() {
        return new Date(System.currentTimeMillis() - 3_600_000L);
    }

    private static Date notAfter() {
        return new Date(System.currentTimeMillis() + 86_400_000L);
    }
}
