package io.ferryvm.chaos;

import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/** Prints the run's summary table once, when the test session ends (after every suite in this JVM). */
public final class SummaryListener implements LauncherSessionListener {
    @Override
    public void launcherSessionClosed(LauncherSession session) {
        ChaosCluster.closeShared();
        if (Summary.RUN.isEmpty()) {
            return; // a unit-test JVM without chaos suites: nothing to report
        }
        Summary.RUN.print(System.out);
    }
}
