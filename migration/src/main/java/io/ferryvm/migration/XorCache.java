package io.ferryvm.migration;

import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The source's copies of pages as last sent, for the XOR-delta codec: bounded (least recently sent
 * goes first), one per channel, so only that channel's sender thread touches it. The target needs no
 * cache: its own memory holds exactly the last sent copy.
 */
final class XorCache {
    private final int capacity;
    private final LinkedHashMap<Long, byte[]> pages;
    private final ArrayDeque<byte[]> free = new ArrayDeque<>();
    private long hits;
    private long misses;

    XorCache(long bytes) {
        this.capacity = (int) Math.max(1, Math.min(Integer.MAX_VALUE, bytes / Wire.PAGE));
        this.pages = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, byte[]> eldest) {
                if (size() > capacity) {
                    free.push(eldest.getValue());
                    return true;
                }
                return false;
            }
        };
    }

    /** The last sent copy, counting a hit or a miss. */
    byte[] lookup(long page) {
        byte[] b = pages.get(page);
        if (b == null) {
            misses++;
        } else {
            hits++;
        }
        return b;
    }

    /** Records what was just sent for page. */
    void store(long page, byte[] content) {
        byte[] b = pages.get(page);
        if (b == null) {
            b = free.isEmpty() ? new byte[Wire.PAGE] : free.pop();
            System.arraycopy(content, 0, b, 0, Wire.PAGE);
            pages.put(page, b);
        } else {
            System.arraycopy(content, 0, b, 0, Wire.PAGE);
        }
    }

    boolean contains(long page) {
        return pages.containsKey(page);
    }

    void remove(long page) {
        byte[] b = pages.remove(page);
        if (b != null) {
            free.push(b);
        }
    }

    long hits() {
        return hits;
    }

    long misses() {
        return misses;
    }
}
