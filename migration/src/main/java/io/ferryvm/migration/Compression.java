package io.ferryvm.migration;

/**
 * Which page codecs a migration may use. Zero pages are always detected and sent without payload (as
 * QEMU does); a page no codec shrinks always goes raw.
 */
public enum Compression {
    /** Zero pages and raw pages only. */
    NONE,
    /** Zero pages, LZ4 per page in batches, raw for pages LZ4 cannot shrink. */
    LZ4,
    /** As LZ4, plus XOR-delta against the last sent copy + LZ4 for re-dirtied pages (XBZRLE-like, bounded cache). */
    XOR_LZ4
}
