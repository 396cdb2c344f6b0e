package io.ferryvm.cluster.wire;

/**
 * Marker of every message that crosses nodes. Bound to {@link FerrySerializer} in the node config; a
 * message without it would need Java serialization, which is disabled, so it cannot leave its node.
 */
public interface WireMessage {}
