package io.ferryvm.ovf;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * OVF package signatures (.cert): the first line is {@code SHA256(package.mf)= <hex signature of the .mf bytes>},
 * then the signer's X.509 certificate chain in PEM (ovftool, VirtualBox signova, XenCenter). Verification
 * checks the signature with the first certificate's key, its validity dates, and, when trust anchors are
 * given, the chain up to one of them.
 */
public final class Signing {
    private static final Pattern FIRST = Pattern.compile("^\\s*([A-Za-z0-9-]+)\\s*\\((.*)\\)\\s*=\\s*([0-9a-fA-F]+)\\s*$");

    /** A verified signature: who signed, with which digest, whether the chain reached a trust anchor, and warnings. */
    public record Verified(X509Certificate signer, Digest digest, boolean trusted, List<String> warnings) {
        public Verified {
            warnings = List.copyOf(warnings);
        }

        public String subject() {
            return signer.getSubjectX500Principal().getName();
        }
    }

    private Signing() {}

    /** The .cert content signing the manifest bytes. */
    public static byte[] sign(byte[] manifest, String manifestName, PrivateKey key, List<X509Certificate> chain, Digest digest) {
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("a signature needs the signer's certificate");
        }
        try {
            Signature s = Signature.getInstance(digest.signatureAlgorithm(key.getAlgorithm()));
            s.initSign(key);
            s.update(manifest);
            byte[] sig = s.sign();
            if (!chain.get(0).getPublicKey().getAlgorithm().equals(key.getAlgorithm())) {
                throw new OvfException(OvfException.Kind.BAD_VALUE, "the private key (" + key.getAlgorithm() + ") does not belong to the certificate "
                        + chain.get(0).getSubjectX500Principal().getName());
            }
            StringBuilder b = new StringBuilder();
            b.append(digest.name()).append('(').append(manifestName).append(")= ").append(HexFormat.of().formatHex(sig)).append('\n');
            Base64.Encoder enc = Base64.getMimeEncoder(64, new byte[] {'\n'});
            for (X509Certificate c : chain) {
                b.append("-----BEGIN CERTIFICATE-----\n").append(enc.encodeToString(c.getEncoded())).append("\n-----END CERTIFICATE-----\n");
            }
            return b.toString().getBytes(StandardCharsets.US_ASCII);
        } catch (GeneralSecurityException e) {
            throw new OvfException(OvfException.Kind.BAD_VALUE, "cannot sign " + manifestName + ": " + e.getMessage(), e);
        }
    }

    /** Verifies a .cert against the manifest bytes; throws INTEGRITY naming the fault. anchors may be empty (then trusted is false). */
    public static Verified verify(byte[] cert, String certName, byte[] manifest, String manifestName, List<X509Certificate> anchors) {
        String text = new String(cert, StandardCharsets.US_ASCII);
        int nl = text.indexOf('\n');
        String first = (nl < 0 ? text : text.substring(0, nl)).replace("\r", "");
        Matcher m = FIRST.matcher(first);
        Digest d = m.matches() ? Digest.named(m.group(1)) : null;
        if (d == null) {
            throw new OvfException(OvfException.Kind.INTEGRITY, certName + ":1: first line is not 'SHA256(" + manifestName + ")= <signature>'");
        }
        if (!m.group(2).strip().equals(manifestName)) {
            throw new OvfException(OvfException.Kind.INTEGRITY, certName + ":1: signs '" + m.group(2) + "', the package's manifest is '" + manifestName + "'");
        }
        List<X509Certificate> chain = certificates(text.substring(Math.max(0, nl)), certName);
        if (chain.isEmpty()) {
            throw new OvfException(OvfException.Kind.INTEGRITY, certName + ": no PEM certificate after the signature line");
        }
        X509Certificate signer = chain.get(0);
        List<String> warnings = new ArrayList<>();
        try {
            Signature s = Signature.getInstance(d.signatureAlgorithm(signer.getPublicKey().getAlgorithm()));
            s.initVerify(signer.getPublicKey());
            s.update(manifest);
            if (!s.verify(HexFormat.of().parseHex(m.group(3)))) {
                throw new OvfException(OvfException.Kind.INTEGRITY, certName + ":1: the signature of " + manifestName + " does not match its content"
                        + " (signer " + signer.getSubjectX500Principal().getName() + ")");
            }
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new OvfException(OvfException.Kind.INTEGRITY, certName + ":1: signature cannot be checked: " + e.getMessage(), e);
        }
        try {
            signer.checkValidity();
        } catch (CertificateExpiredException | CertificateNotYetValidException e) {
            warnings.add("signer certificate " + signer.getSubjectX500Principal().getName() + " is not valid now: " + e.getMessage());
        }
        boolean trusted = false;
        if (!anchors.isEmpty()) {
            try {
                Set<TrustAnchor> ta = new HashSet<>();
                for (X509Certificate a : anchors) {
                    ta.add(new TrustAnchor(a, null));
                }
                PKIXParameters p = new PKIXParameters(ta);
                p.setRevocationEnabled(false);
                CertificateFactory cf = CertificateFactory.getInstance("X.509");
                List<X509Certificate> path = new ArrayList<>(chain);
                path.removeIf(c -> anchors.contains(c));
                if (path.isEmpty()) {
                    trusted = true;
                } else {
                    CertPathValidator.getInstance("PKIX").validate(cf.generateCertPath(path), p);
                    trusted = true;
                }
            } catch (GeneralSecurityException e) {
                throw new OvfException(OvfException.Kind.INTEGRITY, certName + ": signer " + signer.getSubjectX500Principal().getName()
                        + " is not trusted: " + e.getMessage(), e);
            }
        } else {
            warnings.add("signature valid, but no trust anchors were given: signer " + signer.getSubjectX500Principal().getName()
                    + " is not checked against any");
        }
        return new Verified(signer, d, trusted, warnings);
    }

    /**
     * Signs a package: for a folder, writes name.cert beside its manifest; for an .ova, writes a new archive at
     * out with the certificate right after the manifest (DSP0243 order). The digest is the manifest's own.
     * Returns the path written.
     */
    public static java.nio.file.Path signPackage(java.nio.file.Path pkg, PrivateKey key, List<X509Certificate> chain, java.nio.file.Path out) {
        try {
            if (java.nio.file.Files.isDirectory(pkg)) {
                java.nio.file.Path mf;
                try (var s = java.nio.file.Files.list(pkg)) {
                    List<java.nio.file.Path> mfs = s.filter(p -> p.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".mf")).toList();
                    if (mfs.size() != 1) {
                        throw new OvfException(OvfException.Kind.INVALID, pkg + ": " + mfs.size() + " manifests (need exactly one to sign)");
                    }
                    mf = mfs.get(0);
                }
                byte[] bytes = java.nio.file.Files.readAllBytes(mf);
                String name = mf.getFileName().toString();
                byte[] cert = sign(bytes, name, key, chain, digestOf(bytes, name));
                java.nio.file.Path target = pkg.resolve(name.substring(0, name.length() - 3) + ".cert");
                io.ferryvm.core.host.AtomicFiles.write(target, cert);
                return target;
            }
            try (Staging staging = new Staging(out)) {
                java.nio.file.Path tmp = staging.dir().resolve("signed.ova");
                try (var in = new org.apache.commons.compress.archivers.tar.TarArchiveInputStream(
                        new java.io.BufferedInputStream(java.nio.file.Files.newInputStream(pkg), 1 << 20));
                        var t = OvfExporter.tarStream(new java.io.BufferedOutputStream(java.nio.file.Files.newOutputStream(tmp), 1 << 20))) {
                    int[] count = {0};
                    boolean signed = false;
                    org.apache.commons.compress.archivers.tar.TarArchiveEntry e;
                    while ((e = OvfImporter.nextFile(in, pkg.getFileName().toString(), Limits.DEFAULT, count)) != null) {
                        String name = PackagePaths.normalize(e.getName());
                        if (name.toLowerCase(java.util.Locale.ROOT).endsWith(".cert")) {
                            continue; // replaced by the new signature
                        }
                        byte[] small = null;
                        if (name.toLowerCase(java.util.Locale.ROOT).endsWith(".mf")) {
                            small = OvfImporter.readSmall(in, e.getSize(), Limits.DEFAULT.maxSmallFileBytes(), name);
                        }
                        var copy = new org.apache.commons.compress.archivers.tar.TarArchiveEntry(name);
                        copy.setSize(e.getSize());
                        copy.setMode(0644);
                        copy.setModTime(e.getModTime());
                        t.putArchiveEntry(copy);
                        if (small != null) {
                            t.write(small);
                        } else {
                            in.transferTo(t);
                        }
                        t.closeArchiveEntry();
                        if (small != null) {
                            byte[] cert = sign(small, name, key, chain, digestOf(small, name));
                            var ce = new org.apache.commons.compress.archivers.tar.TarArchiveEntry(name.substring(0, name.length() - 3) + ".cert");
                            ce.setSize(cert.length);
                            ce.setMode(0644);
                            t.putArchiveEntry(ce);
                            t.write(cert);
                            t.closeArchiveEntry();
                            signed = true;
                        }
                    }
                    if (!signed) {
                        throw new OvfException(OvfException.Kind.INVALID, pkg + ": no manifest to sign");
                    }
                    t.finish();
                }
                staging.commit("signed.ova");
                return staging.target();
            }
        } catch (java.io.IOException e) {
            throw new OvfException(OvfException.Kind.IO, pkg + ": " + e.getMessage(), e);
        }
    }

    private static Digest digestOf(byte[] manifest, String name) {
        Manifest m = Manifest.parse(manifest, name);
        return m.entries().isEmpty() ? Digest.SHA256 : m.entries().get(0).digest();
    }

    /** PEM certificates in text (other PEM blocks are skipped). */
    public static List<X509Certificate> certificates(String pem, String source) {
        try {
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            List<X509Certificate> out = new ArrayList<>();
            Matcher m = Pattern.compile("-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", Pattern.DOTALL).matcher(pem);
            while (m.find()) {
                byte[] der = Base64.getMimeDecoder().decode(m.group(1));
                out.add((X509Certificate) cf.generateCertificate(new ByteArrayInputStream(der)));
            }
            return out;
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new OvfException(OvfException.Kind.INTEGRITY, source + ": unreadable certificate: " + e.getMessage(), e);
        }
    }

    /** A PEM private key (PKCS#8 "PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY" / "EC PRIVATE KEY"), read with BouncyCastle. */
    public static PrivateKey privateKey(String pem, String source) {
        try (PEMParser p = new PEMParser(new StringReader(pem))) {
            Object o = p.readObject();
            JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
            if (o instanceof PEMKeyPair kp) {
                return conv.getPrivateKey(kp.getPrivateKeyInfo());
            }
            if (o instanceof PrivateKeyInfo info) {
                return conv.getPrivateKey(info);
            }
            throw new OvfException(OvfException.Kind.BAD_VALUE, source + ": no unencrypted PEM private key found");
        } catch (IOException e) {
            throw new OvfException(OvfException.Kind.BAD_VALUE, source + ": unreadable private key: " + e.getMessage(), e);
        }
    }
}
