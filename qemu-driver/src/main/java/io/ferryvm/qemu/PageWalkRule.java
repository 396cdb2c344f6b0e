package io.ferryvm.qemu;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * QEMU's check_guests_ram over a memory dump of the page walk: with b[i] byte 0 of page i, every b[i]
 * equals b[i-1], except at most one place where b[i] is exactly one less (where the walker stood). A page
 * that a migration lost or sent stale breaks it.
 */
public final class PageWalkRule {
    /** The outcome: pages checked, where the one step is (-1: none), and the first offending pages. */
    public record Result(int pages, int stepAt, List<String> violations) {
        public Result {
            violations = List.copyOf(violations);
        }

        public boolean ok() {
            return violations.isEmpty();
        }
    }

    private PageWalkRule() {}

    /** Checks byte 0 of each page of the array (one byte per page). */
    public static Result check(byte[] firstBytes) {
        List<String> bad = new ArrayList<>();
        int step = -1;
        for (int i = 1; i < firstBytes.length; i++) {
            int prev = firstBytes[i - 1] & 0xff;
            int cur = firstBytes[i] & 0xff;
            if (cur == prev) {
                continue;
            }
            if (((cur + 1) & 0xff) == prev && step < 0) {
                step = i;
                continue;
            }
            if (bad.size() < 10) {
                bad.add("page " + i + ": " + cur + " after " + prev + (step >= 0 ? " (step already at page " + step + ")" : ""));
            } else {
                bad.set(9, "... and more");
            }
        }
        return new Result(firstBytes.length, step, bad);
    }

    /** Checks a memory dump (e.g. from pmemsave) that starts at the walk's first page. */
    public static Result checkDump(Path dump, int pages) {
        byte[] first = new byte[pages];
        try (FileChannel ch = FileChannel.open(dump)) {
            if (ch.size() < (long) pages * 4096) {
                throw new QemuException(QemuException.Kind.IO, dump + ": " + ch.size() + " bytes, expected " + (long) pages * 4096);
            }
            ByteBuffer one = ByteBuffer.allocate(1);
            for (int i = 0; i < pages; i++) {
                one.clear();
                if (ch.read(one, (long) i * 4096) != 1) {
                    throw new QemuException(QemuException.Kind.IO, dump + ": short read at page " + i);
                }
                first[i] = one.get(0);
            }
        } catch (IOException e) {
            throw new QemuException(QemuException.Kind.IO, "reading " + dump + ": " + e.getMessage(), e);
        }
        return check(first);
    }
}
