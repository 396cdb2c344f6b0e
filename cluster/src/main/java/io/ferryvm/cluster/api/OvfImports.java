package io.ferryvm.cluster.api;

import io.ferryvm.cluster.agent.AgentProtocol;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol;
import io.ferryvm.ovf.OvfImporter;
import io.ferryvm.ovf.VmSpecMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * VMs from OVF/OVA packages: the ovf module imports the package (checked, staged, committed atomically)
 * into the images folder, then each of its VMs is defined in the cluster. Disk images stay in that
 * folder, which the hosts of a cluster share (the migration module assumes shared storage).
 */
final class OvfImports {
    /** A define the cluster refused, with the refusal's kind for the HTTP status. */
    static final class DefineFailed extends RuntimeException {
        private final AgentProtocol.ErrorKind kind;

        DefineFailed(AgentProtocol.ErrorKind kind, String message) {
            super(message);
            this.kind = kind;
        }

        AgentProtocol.ErrorKind kind() {
            return kind;
        }
    }

    private final ClusterApi api;
    private final Path imagesDir;
    private final ExecutorService io = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "ferry-ovf-import");
        t.setDaemon(true);
        return t;
    });

    OvfImports(ClusterApi api, Path imagesDir) {
        this.api = api;
        this.imagesDir = imagesDir;
    }

    CompletionStage<RestApi.ImportResult> run(RestApi.ImportRequest req) {
        if (req.source() == null || req.source().isBlank()) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("field 'source' is required: the package's path or URI"));
        }
        return CompletableFuture.supplyAsync(() -> {
            try {
                java.nio.file.Files.createDirectories(imagesDir);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("cannot create the images folder " + imagesDir + ": " + e.getMessage(), e);
            }
            Path target = imagesDir.resolve(UUID.randomUUID().toString());
            OvfImporter.Result r = new OvfImporter(OvfImporter.Options.DEFAULT, OvfImporter.Progress.NONE).importPackage(req.source(), target);
            List<OrchestratorProtocol.VmView> defined = new ArrayList<>();
            List<String> warnings = new ArrayList<>(r.warnings());
            r.findings().stream().filter(f -> !f.isError()).forEach(f -> warnings.add(f.toString()));
            for (VmSpecMapper.Mapped m : r.vms()) {
                m.warnings().forEach(w -> warnings.add(m.spec().name() + ": " + w));
                OrchestratorProtocol.Result d;
                try {
                    d = api.define(m.spec(), req.host(), req.startNow()).toCompletableFuture().get(ClusterApi.TIMEOUT.toSeconds(),
                            TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new DefineFailed(AgentProtocol.ErrorKind.UNAVAILABLE, "VM " + m.spec().name() + " from " + req.source()
                            + " could not be defined: " + e);
                }
                if (!d.ok()) {
                    throw new DefineFailed(d.error(), "VM " + m.spec().name() + " from " + req.source() + ": " + d.message()
                            + (defined.isEmpty() ? "" : " (defined before it: " + defined.stream().map(v -> v.spec().name()).toList() + ")"));
                }
                if (d.vm() != null) {
                    defined.add(d.vm());
                }
            }
            return new RestApi.ImportResult(defined, warnings, r.summary());
        }, io);
    }
}
