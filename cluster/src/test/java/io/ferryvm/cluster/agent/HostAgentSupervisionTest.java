package io.ferryvm.cluster.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.ferryvm.cluster.orchestrator.OrchestratorProtocol;
import io.ferryvm.core.Host;
import io.ferryvm.core.HostConfig;
import io.ferryvm.core.host.HostInventory;
import io.ferryvm.migration.Failpoints;
import io.ferryvm.migration.InMemoryTransport;
import java.nio.file.Path;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chaos schedule "target.finish=error" (chaos-tests FailpointChaosIT): a status report raced an incoming
 * migration that was being discarded on a worker thread; the VM was listed, then gone at lookup, the
 * NOT_FOUND escaped the handler and the host agent actor stopped for good. Its host stayed a member but
 * answered nothing again (no reports, prepares, checks). Reports now skip a VM that left, and the agent
 * is restarted, never stopped, on any unexpected failure: shown here with a failure forced in a handler.
 */
class HostAgentSupervisionTest {
    @TempDir
    Path dir;

    final ActorTestKit kit = ActorTestKit.create();

    @AfterEach
    void stop() {
        kit.shutdownTestKit();
    }

    @Test
    void anUnexpectedFailureRestartsTheAgentInsteadOfStoppingIt() {
        Host host = Host.open(new HostConfig("h", dir.resolve("host"), HostInventory.declared("h", 1, 2, 1, 1L << 30), null, null));
        MigrationAgent migrations = new MigrationAgent(host, new InMemoryTransport(), Failpoints.none());
        try {
            TestProbe<OrchestratorProtocol.Command> orchestrator = kit.createTestProbe();
            ActorRef<AgentProtocol.Command> agent = kit.spawn(HostAgent.create(host, new AgentState(dir), "pekko://ferry@h:1",
                    migrations, orchestrator.getRef()));
            TestProbe<AgentProtocol.Reply> replies = kit.createTestProbe();
            agent.tell(new AgentProtocol.Define(null, false, replies.getRef())); // a null spec: an exception no handler expects
            TestProbe<AgentProtocol.HostStatus> status = kit.createTestProbe();
            agent.tell(new AgentProtocol.GetStatus(status.getRef()));
            assertEquals("h", status.receiveMessage().host(), "the agent still answers after the failure");
        } finally {
            migrations.close();
            host.close();
        }
    }
}
