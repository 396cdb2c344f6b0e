package io.ferryvm.ovf;

/**
 * A References/File: id, href (relative to the descriptor), size in bytes as stored (the compressed size when
 * compressed; -1 when not declared), compression ("" or "gzip"), chunk size (0: not chunked).
 */
public record FileRef(String id, String href, long size, String compression, long chunkSize, Extras x) {
    public FileRef {
        compression = compression == null ? "" : compression;
        x = x == null ? Extras.NONE : x;
    }

    public boolean gzip() {
        return compression.equalsIgnoreCase("gzip");
    }

    public boolean chunked() {
        return chunkSize > 0;
    }

    /** The name of chunk i ("disk.vmdk.000000000"). */
    public String chunkName(int i) {
        return href + String.format(java.util.Locale.ROOT, ".%09d", i);
    }
}
