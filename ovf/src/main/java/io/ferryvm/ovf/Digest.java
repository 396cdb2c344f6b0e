package io.ferryvm.ovf;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;

/** Manifest digest algorithms: SHA1 (OVF 1.x), SHA256 (2.x, ovftool 4.2+), SHA512 (XenCenter, VirtualBox accept it). */
public enum Digest {
    SHA1("SHA-1", 40), SHA256("SHA-256", 64), SHA512("SHA-512", 128);

    private final String jca;
    private final int hexLength;

    Digest(String jca, int hexLength) {
        this.jca = jca;
        this.hexLength = hexLength;
    }

    public MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance(jca);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(jca + " missing from the JDK", e);
        }
    }

    int hexLength() {
        return hexLength;
    }

    /** The algorithm a manifest line names: SHA1, SHA256, SHA512 and the spellings SHA-256, sha256 seen in the wild; null otherwise. */
    static Digest named(String name) {
        String n = name.toUpperCase(Locale.ROOT).replace("-", "");
        for (Digest d : values()) {
            if (d.name().equals(n)) {
                return d;
            }
        }
        return null;
    }

    /** The signature algorithm for a key algorithm ("RSA" or "EC"). */
    String signatureAlgorithm(String keyAlgorithm) {
        String k = keyAlgorithm.equals("EC") ? "ECDSA" : keyAlgorithm;
        return name() + "with" + k;
    }

    static String hex(byte[] b) {
        return java.util.HexFormat.of().formatHex(b);
    }
}
