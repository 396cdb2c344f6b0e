package io.ferryvm.core;

/** Monotonic time in nanoseconds: the one seam through which engine code reads the clock. */
@FunctionalInterface
public interface Ticker {
    Ticker SYSTEM = System::nanoTime;

    long nanos();
}
