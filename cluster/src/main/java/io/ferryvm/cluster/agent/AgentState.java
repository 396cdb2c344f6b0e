package io.ferryvm.cluster.agent;

import io.ferryvm.core.VmSpecJson;
import io.ferryvm.core.host.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What a host agent keeps beside engine-core's VM definitions: whether the host is draining for
 * maintenance. Persisted, so an evacuation under way survives the orchestrator moving or the node
 * restarting.
 */
public final class AgentState {
    /** The persisted form. */
    public record Stored(boolean draining) {}

    private final Path file;
    private volatile boolean draining;

    public AgentState(Path stateDir) {
        this.file = stateDir.resolve("agent.json");
        if (Files.exists(file)) {
            try {
                draining = VmSpecJson.read(Files.readAllBytes(file), Stored.class, file.toString(), false).draining();
            } catch (IOException e) {
                throw new io.ferryvm.core.CoreException(io.ferryvm.core.CoreException.Kind.IO, "cannot read " + file + ": " + e, e);
            }
        }
    }

    public boolean draining() {
        return draining;
    }

    public void setDraining(boolean d) {
        AtomicFiles.write(file, VmSpecJson.toJson(new Stored(d)));
        draining = d;
    }
}
