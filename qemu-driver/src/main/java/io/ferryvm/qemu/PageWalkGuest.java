package io.ferryvm.qemu;

import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Ferry's QEMU test guest (resource {@code pagewalk-bootblock.S}), assembled here with the machine's
 * binutils into a bootable 1 MiB raw disk: prints {@link #BANNER}, then increments byte 0 of every page
 * of [walkStart, walkEnd) pass after pass, printing 'B' every 64 passes. Never checked in as a binary.
 */
public record PageWalkGuest(Path disk, long walkStart, long walkEnd) {
    public static final String BANNER = "FERRY-GUEST";
    private static final String SOURCE = "pagewalk-bootblock.S";

    public PageWalkGuest {
        if (walkStart < (1L << 20) || walkEnd <= walkStart || walkEnd > (1L << 32) || (walkStart | walkEnd) % 4096 != 0) {
            throw new IllegalArgumentException("walk range [" + walkStart + ", " + walkEnd + ") must be page-aligned, above 1 MiB and below 4 GiB");
        }
    }

    public int pages() {
        return (int) ((walkEnd - walkStart) / 4096);
    }

    /** Assembles the guest into dir/pagewalk.raw with as and ld; NOT_INSTALLED when binutils is missing. */
    public static PageWalkGuest build(Path dir, long walkStart, long walkEnd) {
        return build(dir, walkStart, walkEnd, false);
    }

    /** As {@link #build(Path, long, long)}; with randomFill the range is first filled with random bytes (incompressible pages). */
    public static PageWalkGuest build(Path dir, long walkStart, long walkEnd, boolean randomFill) {
        PageWalkGuest g = new PageWalkGuest(dir.resolve("pagewalk.raw"), walkStart, walkEnd);
        try {
            Files.createDirectories(dir);
            Path src = dir.resolve(SOURCE);
            try (InputStream in = PageWalkGuest.class.getResourceAsStream(SOURCE)) {
                if (in == null) {
                    throw new QemuException(QemuException.Kind.IO, "resource " + SOURCE + " missing from the driver's jar");
                }
                Files.write(src, in.readAllBytes());
            }
            Path obj = dir.resolve("pagewalk.o");
            Path bin = dir.resolve("pagewalk.bin");
            run(dir, List.of("as", "--32", "-defsym", "WALK_START=" + walkStart, "-defsym", "WALK_END=" + walkEnd, "-defsym", "FILL=" + (randomFill ? 1 : 0), "-o", obj.toString(), src.toString()));
            run(dir, List.of("ld", "-m", "elf_i386", "-Ttext", "0x7c00", "--oformat", "binary", "-e", "start", "-o", bin.toString(), obj.toString()));
            byte[] sector = Files.readAllBytes(bin);
            if (sector.length != 512 || (sector[510] & 0xff) != 0x55 || (sector[511] & 0xff) != 0xaa) {
                throw new QemuException(QemuException.Kind.IO, bin + ": assembled to " + sector.length + " bytes, not a 512-byte boot sector");
            }
            // SeaBIOS does not boot a disk of a single sector: pad to 1 MiB.
            try (RandomAccessFile f = new RandomAccessFile(g.disk.toFile(), "rw")) {
                f.setLength(0);
                f.write(sector);
                f.setLength(1 << 20);
            }
            return g;
        } catch (IOException e) {
            throw new QemuException(QemuException.Kind.IO, "building the test guest in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** True when as and ld can be run. */
    public static boolean toolsInstalled() {
        for (String tool : List.of("as", "ld")) {
            try {
                Process p = new ProcessBuilder(tool, "--version").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    return false;
                }
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    private static void run(Path dir, List<String> cmd) throws IOException {
        Path log = dir.resolve("build.log");
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new QemuException(QemuException.Kind.TIMEOUT, String.join(" ", cmd) + ": did not finish in 60 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QemuException(QemuException.Kind.TIMEOUT, "interrupted running " + cmd.get(0));
        }
        if (p.exitValue() != 0) {
            throw new QemuException(QemuException.Kind.NOT_INSTALLED, String.join(" ", cmd) + " failed (" + p.exitValue() + "): " + QemuDriver.tail(log));
        }
    }
}
