package io.ferryvm.cim;

import java.time.Clock;

/** What every request shares: the class repository, the backend, and the provider's own state. */
record Services(ClassRepository repo, CimBackend backend, RequestedStates requestedStates, MigrationJobs jobs,
        Subscriptions subscriptions, Clock clock) {}
