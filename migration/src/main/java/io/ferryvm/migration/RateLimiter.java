package io.ferryvm.migration;

import io.ferryvm.core.Ticker;
import java.util.concurrent.locks.LockSupport;

/**
 * The bandwidth cap, shared by every channel of a migration: a token bucket holding at most 100 ms of
 * bandwidth (QEMU's rate-limit slice). A frame larger than what is left borrows: the bucket goes
 * negative and the writer waits until it is paid back, so any frame size works under any cap.
 */
final class RateLimiter {
    private final double bytesPerNano;
    private final double burst;
    private final Ticker ticker;
    private double tokens;
    private long last;

    RateLimiter(long bytesPerSecond, Ticker ticker) {
        if (bytesPerSecond <= 0) {
            throw new IllegalArgumentException("bandwidth cap " + bytesPerSecond + " B/s must be positive");
        }
        this.bytesPerNano = bytesPerSecond / 1e9;
        this.burst = Math.max(64 * 1024, bytesPerSecond / 10.0);
        this.ticker = ticker;
        this.last = ticker.nanos();
        this.tokens = burst;
    }

    /** Takes bytes from the bucket; returns how long the caller must wait before sending them (0: now). */
    synchronized long reserve(long bytes) {
        long now = ticker.nanos();
        tokens = Math.min(burst, tokens + (now - last) * bytesPerNano);
        last = now;
        tokens -= bytes;
        return tokens >= 0 ? 0 : (long) Math.ceil(-tokens / bytesPerNano);
    }

    void acquire(long bytes) {
        long wait = reserve(bytes);
        if (wait <= 0) {
            return;
        }
        long deadline = ticker.nanos() + wait;
        for (long left = wait; left > 0; left = deadline - ticker.nanos()) {
            LockSupport.parkNanos(this, left);
            if (Thread.currentThread().isInterrupted()) {
                return; // the migration is being torn down; the write that follows fails on its own
            }
        }
    }
}
