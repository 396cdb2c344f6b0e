package io.ferryvm.core.machine;

import java.util.Arrays;

/**
 * The pages found dirty by one harvest of a {@link DirtyLog}: an immutable bitmap, bit p = page p.
 */
public final class DirtyBitmap {
    private final long pageCount;
    private final long[] words;
    private final long count;

    DirtyBitmap(long pageCount, long[] words) {
        this.pageCount = pageCount;
        this.words = words;
        long c = 0;
        for (long w : words) {
            c += Long.bitCount(w);
        }
        this.count = c;
    }

    /** Every page dirty: what the first pre-copy pass sends. */
    public static DirtyBitmap all(long pageCount) {
        long[] w = new long[wordsFor(pageCount)];
        Arrays.fill(w, -1L);
        int tail = (int) (pageCount & 63);
        if (tail != 0) {
            w[w.length - 1] = (1L << tail) - 1;
        }
        return new DirtyBitmap(pageCount, w);
    }

    public static DirtyBitmap none(long pageCount) {
        return new DirtyBitmap(pageCount, new long[wordsFor(pageCount)]);
    }

    /** A bitmap of exactly the given pages. */
    public static DirtyBitmap of(long pageCount, long... pages) {
        long[] w = new long[wordsFor(pageCount)];
        for (long p : pages) {
            if (p < 0 || p >= pageCount) {
                throw new IndexOutOfBoundsException("page " + p + " outside 0.." + (pageCount - 1));
            }
            w[(int) (p >>> 6)] |= 1L << p;
        }
        return new DirtyBitmap(pageCount, w);
    }

    /** A bitmap of the given 64-bit words (copied; bits beyond pageCount are refused). */
    public static DirtyBitmap ofWords(long pageCount, long[] words) {
        if (words.length != wordsFor(pageCount)) {
            throw new IllegalArgumentException(words.length + " words for " + pageCount + " pages, need " + wordsFor(pageCount));
        }
        int tail = (int) (pageCount & 63);
        if (tail != 0 && (words[words.length - 1] >>> tail) != 0) {
            throw new IllegalArgumentException("bits set beyond page " + (pageCount - 1));
        }
        return new DirtyBitmap(pageCount, words.clone());
    }

    static int wordsFor(long pageCount) {
        return (int) ((pageCount + 63) >>> 6);
    }

    public long pageCount() {
        return pageCount;
    }

    /** Number of dirty pages. */
    public long count() {
        return count;
    }

    public boolean isDirty(long page) {
        return (words[(int) (page >>> 6)] & (1L << page)) != 0;
    }

    /** The first dirty page at or after from, or -1. */
    public long nextDirty(long from) {
        if (from >= pageCount) {
            return -1;
        }
        int w = (int) (from >>> 6);
        long word = words[w] & (-1L << from);
        while (true) {
            if (word != 0) {
                long p = ((long) w << 6) + Long.numberOfTrailingZeros(word);
                return p < pageCount ? p : -1;
            }
            if (++w == words.length) {
                return -1;
            }
            word = words[w];
        }
    }

    /** The first dirty page in [from, to), or -1: reads only the words of that range. */
    public long nextDirty(long from, long to) {
        long end = Math.min(to, pageCount);
        if (from >= end) {
            return -1;
        }
        int w = (int) (from >>> 6);
        int last = (int) ((end - 1) >>> 6);
        long word = words[w] & (-1L << from);
        while (true) {
            if (word != 0) {
                long p = ((long) w << 6) + Long.numberOfTrailingZeros(word);
                return p < end ? p : -1;
            }
            if (++w > last) {
                return -1;
            }
            word = words[w];
        }
    }

    /** This bitmap with the pages of other added. */
    public DirtyBitmap union(DirtyBitmap other) {
        if (other.pageCount != pageCount) {
            throw new IllegalArgumentException("bitmaps of " + pageCount + " and " + other.pageCount + " pages");
        }
        long[] w = words.clone();
        for (int i = 0; i < w.length; i++) {
            w[i] |= other.words[i];
        }
        return new DirtyBitmap(pageCount, w);
    }

    /** The raw 64-bit words (a copy). */
    public long[] toWords() {
        return words.clone();
    }

    @Override
    public String toString() {
        return "DirtyBitmap[" + count + " of " + pageCount + " pages]";
    }
}
