package io.ferryvm.ovf;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;

/** Counts and digests (any of SHA-1/256/512) the bytes that pass, so integrity is checked in the same pass as the copy. */
final class HashingInputStream extends FilterInputStream {
    private final Map<Digest, MessageDigest> digests = new EnumMap<>(Digest.class);
    private long count;

    HashingInputStream(InputStream in, Set<Digest> algorithms) {
        super(in);
        for (Digest d : algorithms) {
            digests.put(d, d.newDigest());
        }
    }

    @Override
    public int read() throws IOException {
        int b = super.read();
        if (b >= 0) {
            count++;
            for (MessageDigest d : digests.values()) {
                d.update((byte) b);
            }
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        if (n > 0) {
            count += n;
            for (MessageDigest d : digests.values()) {
                d.update(b, off, n);
            }
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        byte[] buf = new byte[(int) Math.min(n, 1 << 16)];
        long done = 0;
        while (done < n) {
            int k = read(buf, 0, (int) Math.min(buf.length, n - done));
            if (k < 0) {
                break;
            }
            done += k;
        }
        return done;
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    /** Reads to the end (so the digest covers every byte) and returns the hex digests. */
    Map<Digest, String> finish() throws IOException {
        byte[] buf = new byte[1 << 16];
        while (read(buf, 0, buf.length) >= 0) {
            // consume
        }
        Map<Digest, String> out = new EnumMap<>(Digest.class);
        for (Map.Entry<Digest, MessageDigest> e : digests.entrySet()) {
            out.put(e.getKey(), Digest.hex(e.getValue().digest()));
        }
        return out;
    }

    long count() {
        return count;
    }
}
