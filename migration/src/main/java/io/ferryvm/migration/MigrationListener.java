package io.ferryvm.migration;

/** Receives progress events; called on the migration's own thread, so it must return quickly. */
@FunctionalInterface
public interface MigrationListener {
    MigrationListener NONE = e -> {};

    void onEvent(MigrationEvent event);
}
