package io.ferryvm.cim;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The HTTPS server's key and certificate: a configured PKCS#12 key store, or a self-signed certificate
 * (RSA 2048, SHA-256, 10 years, for localhost, 127.0.0.1, ::1 and the bind address) generated with
 * BouncyCastle on first start and kept in the state directory (key store and its password readable by
 * the owner only), with the certificate also written as PEM for clients ({@code wbemcli -cacert}).
 */
final class TlsIdentity {
    static final String KEYSTORE = "cim-server.p12";
    static final String PASSWORD = "cim-server.p12.password";
    static final String CERTIFICATE = "cim-server.crt";
    private static final String ALIAS = "ferry-cim";

    private final SSLContext context;
    private final X509Certificate certificate;
    private final Path certificateFile;

    private TlsIdentity(SSLContext context, X509Certificate certificate, Path certificateFile) {
        this.context = context;
        this.certificate = certificate;
        this.certificateFile = certificateFile;
    }

    SSLContext sslContext() {
        return context;
    }

    X509Certificate certificate() {
        return certificate;
    }

    /** The PEM certificate file clients can trust, or null (a configured key store). */
    Path certificateFile() {
        return certificateFile;
    }

    String fingerprint() {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded());
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(d);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Loads a configured PKCS#12 key store. */
    static TlsIdentity load(Path keyStore, char[] password) {
        try (InputStream in = Files.newInputStream(keyStore)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(in, password);
            X509Certificate cert = null;
            for (String alias : java.util.Collections.list(ks.aliases())) {
                if (ks.isKeyEntry(alias)) {
                    cert = (X509Certificate) ks.getCertificate(alias);
                    break;
                }
            }
            if (cert == null) {
                throw new IllegalArgumentException("key store " + keyStore + " holds no private key");
            }
            return new TlsIdentity(context(ks, password), cert, null);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot load the CIM server key store " + keyStore + ": " + e.getMessage(), e);
        }
    }

    /** The self-signed identity kept in dir: loaded if present, generated (and saved) otherwise. */
    static TlsIdentity selfSigned(Path dir, String bindHost) {
        Path ks = dir.resolve(KEYSTORE);
        Path pw = dir.resolve(PASSWORD);
        Path crt = dir.resolve(CERTIFICATE);
        try {
            if (Files.exists(ks) && Files.exists(pw)) {
                char[] password = Files.readString(pw, StandardCharsets.US_ASCII).trim().toCharArray();
                TlsIdentity loaded = load(ks, password);
                return new TlsIdentity(loaded.context, loaded.certificate, crt);
            }
            Files.createDirectories(dir);
            byte[] secret = new byte[16];
            new SecureRandom().nextBytes(secret);
            char[] password = HexFormat.of().formatHex(secret).toCharArray();
            KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA");
            gen.initialize(2048);
            KeyPair pair = gen.generateKeyPair();
            X509Certificate cert = certificate(pair, bindHost);
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry(ALIAS, pair.getPrivate(), password, new X509Certificate[] {cert});
            writePrivate(pw, new String(password).getBytes(StandardCharsets.US_ASCII));
            Path tmp = dir.resolve(KEYSTORE + ".tmp");
            try (OutputStream out = Files.newOutputStream(tmp)) {
                store.store(out, password);
            }
            restrict(tmp);
            Files.move(tmp, ks, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            StringWriter pem = new StringWriter();
            try (JcaPEMWriter w = new JcaPEMWriter(pem)) {
                w.writeObject(cert);
            }
            Files.writeString(crt, pem.toString(), StandardCharsets.US_ASCII);
            return new TlsIdentity(context(store, password), cert, crt);
        } catch (IOException | GeneralSecurityException | OperatorCreationException e) {
            throw new IllegalStateException("cannot create the CIM server certificate in " + dir + ": " + e.getMessage(), e);
        }
    }

    private static void writePrivate(Path file, byte[] content) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, new byte[0]);
        restrict(tmp);
        Files.write(tmp, content);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static void restrict(Path file) throws IOException {
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: the directory's permissions apply
        }
    }

    private static X509Certificate certificate(KeyPair pair, String bindHost) throws IOException, GeneralSecurityException,
            OperatorCreationException {
        X500Name name = new X500Name("CN=Ferry CIM server,O=Ferry");
        Instant now = Instant.now();
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, new BigInteger(64, new SecureRandom()),
                Date.from(now.minus(Duration.ofDays(1))), Date.from(now.plus(Duration.ofDays(3650))), name, pair.getPublic());
        List<GeneralName> sans = new ArrayList<>();
        sans.add(new GeneralName(GeneralName.dNSName, "localhost"));
        sans.add(new GeneralName(GeneralName.iPAddress, "127.0.0.1"));
        sans.add(new GeneralName(GeneralName.iPAddress, "::1"));
        if (bindHost != null && !bindHost.isBlank() && !bindHost.equals("127.0.0.1") && !bindHost.equals("0.0.0.0")) {
            boolean ip = ListenerPolicy.literal(bindHost) != null;
            sans.add(new GeneralName(ip ? GeneralName.iPAddress : GeneralName.dNSName, bindHost));
        }
        if (bindHost != null && bindHost.equals("0.0.0.0")) {
            sans.add(new GeneralName(GeneralName.dNSName, InetAddress.getLocalHost().getHostName()));
        }
        b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans.toArray(new GeneralName[0])));
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
        b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
        return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withRSA").build(pair.getPrivate())));
    }

    private static SSLContext context(KeyStore ks, char[] password) throws GeneralSecurityException {
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, password);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, new SecureRandom());
        return ctx;
    }
}
