package io.ferryvm.core.guest;

import io.ferryvm.core.machine.GuestContext;
import io.ferryvm.core.machine.GuestProgram;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * fill: writes each page of the slice once (one page per step), then halts. A page's kind (zero, text,
 * random) and content depend only on (seed, page number). Register r0 = pages done.
 */
final class FillProgram implements GuestProgram {
    /** Tokens of machine code listings and C: LZ4 compresses pages of them about 2-3x, like binaries. */
    private static final byte[][] TOKENS = tokens("mov ", "rax, ", "rbx, ", "0x", "call ", "ret\n", "push ", "pop ",
            "rbp", "rsp", "[rip+", "] ", "jmp ", "cmp ", "test ", "lea ", "add ", "sub ", "xor ", "nop\n", "struct ",
            "return ", "if (", ") {\n", "}\n", "0000", "ffff", "    ", "const ", "char *", "void ", "NULL");

    private final Slice slice;
    private final int zeroPercent;
    private final int textPercent;
    private final long seed;
    private final ByteBuffer page = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);

    FillProgram(Slice slice, int zeroPercent, int textPercent, long seed) {
        this.slice = slice;
        this.zeroPercent = zeroPercent;
        this.textPercent = textPercent;
        this.seed = seed;
    }

    private static byte[][] tokens(String... ts) {
        byte[][] out = new byte[ts.length][];
        for (int i = 0; i < ts.length; i++) {
            out[i] = ts[i].getBytes(StandardCharsets.US_ASCII);
        }
        return out;
    }

    @Override
    public String name() {
        return "fill";
    }

    @Override
    public void reset(long[] regs) {
        java.util.Arrays.fill(regs, 0L);
    }

    @Override
    public long run(GuestContext ctx, long[] regs, long maxSteps) {
        long done = regs[0];
        long n = Math.min(maxSteps, slice.pages() - done);
        for (long s = 0; s < n; s++, done++) {
            long abs = slice.firstPage() + done;
            long h = SplitMix.mix(seed ^ SplitMix.mix(abs + 1));
            int kind = (int) Long.remainderUnsigned(h, 100);
            if (kind < zeroPercent) {
                continue; // fresh memory is already zero
            }
            if (kind < zeroPercent + textPercent) {
                text(h);
            } else {
                random(h);
            }
            long addr = abs << 12;
            for (int off = 0; off < 4096; off += 8) {
                ctx.putLong(addr + off, page.getLong(off));
            }
        }
        regs[0] = done;
        return n;
    }

    private void random(long h) {
        long st = h;
        for (int off = 0; off < 4096; off += 8) {
            st += SplitMix.GOLDEN;
            page.putLong(off, SplitMix.mix(st));
        }
    }

    private void text(long h) {
        long st = h;
        int off = 0;
        byte[] a = page.array();
        while (off < 4096) {
            st += SplitMix.GOLDEN;
            long z = SplitMix.mix(st);
            byte[] t = TOKENS[(int) (z & 31)];
            int n = Math.min(t.length, 4096 - off);
            System.arraycopy(t, 0, a, off, n);
            off += n;
            if ((z & 0x700) == 0 && off + 2 <= 4096) { // now and then an operand that varies
                a[off++] = (byte) ('0' + ((z >>> 12) & 7));
                a[off++] = (byte) ('a' + ((z >>> 16) & 15));
            }
        }
    }
}
