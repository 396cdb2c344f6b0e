package io.ferryvm.bench.numa;

import io.ferryvm.numa.HostState;
import io.ferryvm.numa.Placement;
import io.ferryvm.numa.VmRequest;
import java.util.Collection;
import java.util.UUID;

/** One placement policy under test: Ferry or a baseline, over its own copy of the cluster. */
interface Policy {
    String name();

    /** The claimed placement, or null if rejected. */
    Placement place(VmRequest r);

    void release(UUID vm);

    Collection<HostState> states();

    default long conflicts() {
        return 0;
    }
}
