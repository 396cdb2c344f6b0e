package io.ferryvm.ovf;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.zip.Deflater;

/**
 * Disk image conversions Ferry does while streaming: VMDK (streamOptimized, also qemu's variant without
 * footer, and monolithicSparse) to raw, raw copies bounded by the capacity, and raw to VMDK 3
 * streamOptimized. Raw output is sparse (zero blocks are not written).
 */
public final class DiskImages {
    /** Disk formats an OVF Disk's ovf:format URI names. */
    public enum Format { VMDK_STREAM_OPTIMIZED, VMDK_SPARSE, RAW, QCOW2, VHD, UNKNOWN }

    /** A conversion's outcome: capacity, non-zero bytes written, bytes read from the source, and what the image said it was. */
    public record Converted(long capacityBytes, long dataBytes, long sourceBytes, String detail) {}

    private DiskImages() {}

    public static Format formatOf(String uri) {
        String u = uri == null ? "" : uri.toLowerCase(Locale.ROOT);
        if (u.contains("vmdk") && u.contains("streamoptimized")) {
            return Format.VMDK_STREAM_OPTIMIZED;
        }
        if (u.contains("vmdk")) {
            return Format.VMDK_SPARSE;
        }
        if (u.contains("qcow")) {
            return Format.QCOW2;
        }
        if (u.contains("vhd")) {
            return Format.VHD;
        }
        if (u.equals(VirtualDisk.FORMAT_RAW.toLowerCase(Locale.ROOT)) || u.endsWith("#raw") || u.equals("raw")) {
            return Format.RAW;
        }
        return Format.UNKNOWN;
    }

    /** Converts a VMDK stream to a raw file; the VMDK's capacity must equal expectedCapacity (the descriptor's). */
    public static Converted vmdkToRaw(InputStream in, String source, long expectedCapacity, Path target) throws IOException {
        return vmdkToRaw(in, source, expectedCapacity, target, GrainPool.defaultThreads());
    }

    static Converted vmdkToRaw(InputStream in, String source, long expectedCapacity, Path target, int threads) throws IOException {
        if (expectedCapacity < 0) {
            throw new IllegalArgumentException("the capacity must be known before writing (it bounds every write)");
        }
        try (RawSink sink = new RawSink(target, expectedCapacity)) {
            VmdkReader.Result r = VmdkReader.toRaw(in, source, expectedCapacity, sink, threads);
            sink.finish();
            return new Converted(r.capacityBytes(), sink.written(), r.vmdkBytes(), r.createType() + ", " + r.grains() + " grains");
        }
    }

    /** Converts a qcow2 stream (v2/v3, tables before data as qemu-img writes it) to a raw file of the expected capacity. */
    public static Converted qcow2ToRaw(InputStream in, String source, long expectedCapacity, Path target) throws IOException {
        try (RawSink sink = new RawSink(target, expectedCapacity)) {
            long clusters = Qcow2Reader.toRaw(in, source, expectedCapacity, sink);
            sink.finish();
            return new Converted(expectedCapacity, sink.written(), -1, "qcow2, " + clusters + " clusters");
        }
    }

    /** Copies a raw image of exactly capacity bytes (more is refused; less is refused as truncated). */
    public static Converted rawCopy(InputStream in, String source, long capacity, Path target) throws IOException {
        try (RawSink sink = new RawSink(target, capacity)) {
            byte[] buf = new byte[1 << 20];
            long pos = 0;
            int n;
            while ((n = in.read(buf)) >= 0) {
                if (pos + n > capacity) {
                    throw new OvfException(OvfException.Kind.CORRUPT_DISK, source + ": raw image holds more than its capacity of " + capacity + " bytes");
                }
                sink.write(pos, buf, n);
                pos += n;
            }
            if (pos != capacity) {
                throw new OvfException(OvfException.Kind.CORRUPT_DISK, source + ": raw image truncated: " + pos + " of " + capacity + " bytes");
            }
            sink.finish();
            return new Converted(capacity, sink.written(), pos, "raw");
        }
    }

    /** Writes a raw file as a VMDK 3 streamOptimized file; returns the VMDK's size and grain count. */
    public static Converted rawToStreamOptimized(Path raw, long capacity, Path vmdk) throws IOException {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(raw), 1 << 20);
                OutputStream out = new BufferedOutputStream(Files.newOutputStream(vmdk, java.nio.file.StandardOpenOption.CREATE_NEW), 1 << 20)) {
            VmdkWriter.Result r = VmdkWriter.write(in, capacity, vmdk.getFileName().toString(), out, GrainPool.defaultThreads(),
                    Deflater.DEFAULT_COMPRESSION);
            return new Converted(r.capacityBytes(), r.grains() * VmdkWriter.GRAIN_SECTORS * VmdkHeader.SECTOR, r.vmdkBytes(), "streamOptimized");
        }
    }

    /** The same to a stream. */
    public static Converted rawToStreamOptimized(InputStream raw, long capacity, String name, OutputStream out) throws IOException {
        VmdkWriter.Result r = VmdkWriter.write(raw, capacity, name, out, GrainPool.defaultThreads(), Deflater.DEFAULT_COMPRESSION);
        return new Converted(r.capacityBytes(), r.grains() * VmdkWriter.GRAIN_SECTORS * VmdkHeader.SECTOR, r.vmdkBytes(), "streamOptimized");
    }
}
