package io.ferryvm.qemu;

/** A snapshot of query-migrate on the source: status, RAM bytes transferred/remaining/total, dirty-sync passes, throughput. */
public record MigrationProgress(String status, long transferred, long remaining, long total, long passes, double mbps) {}
