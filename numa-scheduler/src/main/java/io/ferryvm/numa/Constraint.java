package io.ferryvm.numa;

/**
 * The constraints a placement must satisfy, in the order a host checks them; a {@link Rejection} names
 * the first one that failed.
 */
public enum Constraint {
    /** The request is inconsistent (split that does not add up, memory not a multiple of the page size). */
    REQUEST,
    /** The guest asks for more NUMA nodes than the host has (or than distinct nodes can back). */
    HOST_NODES,
    /** The passed-through device's NUMA node is not among the nodes that could back the guest. */
    DEVICE_NODE,
    /** No free huge pages of the requested size on a node. */
    HUGE_PAGES,
    /** Not enough free small-page memory on a node. */
    MEMORY,
    /** Not enough free pCPUs for dedicated vCPUs (or taking them would over-commit shared vCPUs). */
    DEDICATED_CPUS,
    /** Enough pCPUs, but not with the requested SMT thread policy (isolate / require). */
    THREAD_POLICY,
    /** Shared vCPUs would exceed the node's shared pCPUs times the overcommit ratio. */
    SHARED_CPUS,
    /** The host (in a cluster: every host that could fit) already holds a member of the VM's anti-affinity group. */
    ANTI_AFFINITY,
    /** Cluster: no enabled host at all. */
    NO_HOSTS,
    /** Cluster: the claim kept losing races with concurrent placers (bounded retries exhausted). */
    CONFLICT
}
