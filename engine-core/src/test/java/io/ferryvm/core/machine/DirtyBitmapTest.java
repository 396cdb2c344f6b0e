package io.ferryvm.core.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class DirtyBitmapTest {
    @Test
    void nextDirtyWithinARangeReadsOnlyThatRange() {
        DirtyBitmap b = DirtyBitmap.of(1000, 3, 64, 255, 256, 999);
        assertEquals(3, b.nextDirty(0, 256));
        assertEquals(64, b.nextDirty(4, 256));
        assertEquals(255, b.nextDirty(65, 256));
        assertEquals(-1, b.nextDirty(4, 64), "the end is exclusive");
        assertEquals(256, b.nextDirty(256, 512));
        assertEquals(-1, b.nextDirty(257, 512), "nothing dirty in [257, 512) though 999 is");
        assertEquals(999, b.nextDirty(512, 5000), "an end past the last page is clamped");
        assertEquals(-1, b.nextDirty(600, 600));
        assertEquals(-1, DirtyBitmap.none(1 << 20).nextDirty(0, 256));
    }

    @Test
    void fromWordsCopiesAndRefusesBitsPastTheEnd() {
        long[] w = {0b1010L, 1L << 35};
        DirtyBitmap b = DirtyBitmap.ofWords(100, w);
        w[0] = 0;
        assertEquals(3, b.count(), "a copy: later changes to the words do not show");
        assertEquals(1, b.nextDirty(0));
        assertEquals(99, b.nextDirty(4));
        assertThrows(IllegalArgumentException.class, () -> DirtyBitmap.ofWords(100, new long[] {0, 1L << 36}));
        assertThrows(IllegalArgumentException.class, () -> DirtyBitmap.ofWords(100, new long[1]));
    }
}
