package io.ferryvm.migration;

/** A page codec's id as it travels in RAM frames; ids are never reused, 0 is reserved. */
public enum CodecId {
    ZERO(1),
    RAW(2),
    LZ4(3),
    XOR_LZ4(4);

    final int wire;

    CodecId(int wire) {
        this.wire = wire;
    }

    /** The codec of a wire id, or null. */
    static CodecId ofWire(int id) {
        for (CodecId c : values()) {
            if (c.wire == id) {
                return c;
            }
        }
        return null;
    }
}
