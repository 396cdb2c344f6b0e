package io.ferryvm.core;

import io.ferryvm.core.host.HostInventory;
import java.nio.file.Path;
import java.util.Objects;

/**
 * How a host is set up: its state directory, its inventory (detected, or declared for a simulated
 * host), the placer, and the clock. A simulated host records placements but applies no real pinning or
 * memory binding (its CPUs and nodes need not exist on this machine).
 */
public record HostConfig(String name, Path stateDir, HostInventory inventory, Placer placer, Ticker ticker) {
    public HostConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(stateDir, "stateDir");
        Objects.requireNonNull(inventory, "inventory");
        placer = placer == null ? Placer.unpinned() : placer;
        ticker = ticker == null ? Ticker.SYSTEM : ticker;
    }

    public boolean simulated() {
        return inventory.simulated();
    }
}
