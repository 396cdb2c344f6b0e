package io.ferryvm.cim;

import static io.ferryvm.cim.Names.VIRTUALIZATION;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * DSP1081 Virtual System Migration: a Ferry_VirtualSystemMigrationService per host, its capabilities,
 * the default migration settings, and a Ferry_MigrationJob per migration whose JobState and
 * PercentComplete follow the cluster's migration ({@link MigrationJobs}). Terminating a job cancels
 * the migration; GetError returns why a job failed.
 */
final class MigrationProfile {
    static final String SERVICE = "Ferry_VirtualSystemMigrationService";
    static final String CAPABILITIES = "Ferry_VirtualSystemMigrationCapabilities";
    static final String SETTINGS = "Ferry_VirtualSystemMigrationSettingData";
    static final String JOB = "Ferry_MigrationJob";
    private static final String MSD_BASE = "CIM_VirtualSystemMigrationSettingData";

    private MigrationProfile() {}

    static void register(List<Provider> out) {
        out.add(SimpleProvider.of(VIRTUALIZATION, SERVICE, ctx -> {
            List<CimInstance> l = new ArrayList<>();
            for (CimBackend.Host h : ctx.hosts()) {
                l.add(service(ctx, h));
            }
            return l;
        }).get((ctx, p) -> ctx.host(p.keyString("SystemName")).map(h -> service(ctx, h)).orElse(null))
                .invoke(MigrationProfile::invokeOnService));
        out.add(SimpleProvider.of(VIRTUALIZATION, CAPABILITIES, ctx -> List.of(capabilities(ctx))));
        out.add(SimpleProvider.of(VIRTUALIZATION, SETTINGS, ctx -> List.of(defaultSettings(ctx))));
        out.add(SimpleProvider.of(VIRTUALIZATION, JOB, ctx -> {
            List<CimInstance> l = new ArrayList<>();
            for (MigrationJobs.Job j : ctx.services().jobs().list(ctx)) {
                l.add(job(ctx, j));
            }
            return l;
        }).get((ctx, p) -> jobId(p.keyString("InstanceID")).flatMap(id -> ctx.services().jobs().get(ctx, id))
                .map(j -> job(ctx, j)).orElse(null))
                .invoke(MigrationProfile::invokeOnJob)
                .delete((ctx, p) -> ctx.services().jobs().delete(ctx, jobId(p.keyString("InstanceID"))
                        .orElseThrow(() -> new CimException(CimStatus.NOT_FOUND, "No such instance: " + p)))));
        out.add(SimpleProvider.of(VIRTUALIZATION, "Ferry_AffectedJobElement", ctx -> {
            List<CimInstance> l = new ArrayList<>();
            for (MigrationJobs.Job j : ctx.services().jobs().list(ctx)) {
                l.add(ctx.instance(VIRTUALIZATION, "Ferry_AffectedJobElement").set("AffectedElement", VirtualSystemProfile.csPath(j.vm()))
                        .set("AffectingElement", jobPath(j.id())).set("ElementEffects", List.of(5L)).build());
            }
            return l;
        }));
        out.add(SimpleProvider.of(VIRTUALIZATION, "Ferry_OwningJobElement", ctx -> {
            List<CimInstance> l = new ArrayList<>();
            for (MigrationJobs.Job j : ctx.services().jobs().list(ctx)) {
                if (j.source() != null) {
                    l.add(ctx.instance(VIRTUALIZATION, "Ferry_OwningJobElement").set("OwningElement", servicePath(j.source()))
                            .set("OwnedElement", jobPath(j.id())).build());
                }
            }
            return l;
        }));
    }

    static CimObjectPath servicePath(String host) {
        return CimObjectPath.builder(VIRTUALIZATION, SERVICE).key("SystemCreationClassName", HostProfile.HOST).key("SystemName", host)
                .key("CreationClassName", SERVICE).key("Name", "Migration Service").build();
    }

    static CimObjectPath capabilitiesPath() {
        return CimObjectPath.builder(VIRTUALIZATION, CAPABILITIES).key("InstanceID", "MigrationCapabilities").build();
    }

    static CimObjectPath jobPath(UUID id) {
        return CimObjectPath.builder(VIRTUALIZATION, JOB).key("InstanceID", id.toString()).build();
    }

    static java.util.Optional<UUID> jobId(String s) {
        try {
            return s == null ? java.util.Optional.empty() : java.util.Optional.of(UUID.fromString(s));
        } catch (IllegalArgumentException e) {
            return java.util.Optional.empty();
        }
    }

    // ---- instances ----

    static CimInstance service(CallContext ctx, CimBackend.Host h) {
        return ctx.instance(VIRTUALIZATION, SERVICE)
                .set("SystemCreationClassName", HostProfile.HOST)
                .set("SystemName", h.name())
                .set("CreationClassName", SERVICE)
                .set("Name", "Migration Service")
                .set("ElementName", "Virtual system migration on " + h.name())
                .set("Caption", "Virtual System Migration Service")
                .set("Started", h.up())
                .set("EnabledState", h.up() ? 2 : 0)
                .set("RequestedState", 12)
                .set("OperationalStatus", h.up() ? List.of(2L) : List.of(13L))
                .set("HealthState", h.up() ? 5 : 20)
                .build();
    }

    static CimInstance capabilities(CallContext ctx) {
        return ctx.instance(VIRTUALIZATION, CAPABILITIES)
                .set("InstanceID", "MigrationCapabilities")
                .set("ElementName", "Virtual system migration capabilities")
                .set("AsynchronousMethodsSupported", List.of(2L, 3L))
                .set("SynchronousMethodsSupported", List.of(4L, 5L))
                .set("DestinationHostFormatsSupported", List.of(1L))
                .set("OtherDestinationHostFormatsSupported", List.of("Ferry host name"))
                .build();
    }

    static CimInstance defaultSettings(CallContext ctx) {
        CimBackend.MigrationTuning t = CimBackend.MigrationTuning.DEFAULT;
        return ctx.instance(VIRTUALIZATION, SETTINGS)
                .set("InstanceID", "MigrationSettingData")
                .set("ElementName", "Default migration settings")
                .set("MigrationType", 2)
                .set("Priority", 0)
                .set("Bandwidth", 0)
                .set("BandwidthUnit", "byte*2^20/second")
                .set("TransportType", 5)
                .set("DowntimeLimit", t.downtimeLimitMs())
                .set("AutoConverge", t.autoConverge())
                .set("PostCopy", t.postCopy())
                .set("Channels", t.channels())
                .set("Compression", t.compression())
                .set("Timeout", t.timeoutSeconds())
                .build();
    }

    static CimInstance job(CallContext ctx, MigrationJobs.Job j) {
        java.time.Instant end = j.endedAt() != null ? j.endedAt() : ctx.services().clock().instant();
        String type = j.migrationType() == MigrationJobs.RESTART ? "Restart" : j.migrationType() == MigrationJobs.RESUME ? "Resume" : "Live";
        List<Long> operational = j.jobState() == 7 ? List.of(2L, 17L) : j.jobState() == 10 || j.jobState() == 8 ? List.of(6L)
                : List.of(2L, 11L);
        return ctx.instance(VIRTUALIZATION, JOB)
                .set("InstanceID", j.id().toString())
                .set("Name", "Migration")
                .set("ElementName", type + " migration of " + j.vm() + " from " + j.source() + " to " + j.target())
                .set("Caption", "Migration job")
                .set("JobState", j.jobState())
                .set("JobStatus", j.status() + (j.phase().isEmpty() || j.isEnded() ? "" : " (" + j.phase() + ")"))
                .set("Status", j.status())
                .set("OperationalStatus", operational)
                .set("PercentComplete", j.percent())
                .set("TimeSubmitted", CimDateTime.of(j.started()))
                .set("StartTime", CimDateTime.of(j.started()))
                .set("ElapsedTime", CimDateTime.interval(Duration.between(j.started(), end)))
                .set("TimeOfLastStateChange", CimDateTime.of(j.changed()))
                .set("TimeBeforeRemoval", CimDateTime.interval(MigrationJobs.KEEP))
                .set("DeleteOnCompletion", false)
                .set("ErrorCode", j.error().isEmpty() ? 0 : 1)
                .set("ErrorDescription", j.error().isEmpty() ? null : j.error())
                .set("RecoveryAction", 2)
                .set("VirtualSystem", j.vm())
                .set("SourceHost", j.source())
                .set("DestinationHost", j.target())
                .set("MigrationType", j.migrationType())
                .set("Phase", j.phase())
                .set("TransferredBytes", j.transferred())
                .set("RemainingBytes", j.remaining())
                .set("Downtime", j.downtimeMs())
                .build();
    }

    // ---- methods ----

    private static MethodResult invokeOnService(CallContext ctx, CimObjectPath target, CimClass.Method m, Map<String, Object> args) {
        switch (m.name()) {
            case "MigrateVirtualSystemToHost":
            case "MigrateVirtualSystemToSystem":
            case "CheckVirtualSystemIsMigratableToHost":
            case "CheckVirtualSystemIsMigratableToSystem":
                break;
            default:
                throw new CimException(CimStatus.METHOD_NOT_AVAILABLE, m.name() + " is not available on " + SERVICE);
        }
        boolean toSystem = m.name().endsWith("ToSystem");
        boolean check = m.name().startsWith("Check");
        Object csRef = args.get("ComputerSystem");
        if (!(csRef instanceof CimObjectPath)) {
            throw new CimException(CimStatus.FAILED, "Missing argument (ComputerSystem)");
        }
        String name = ((CimObjectPath) csRef).keyString("Name");
        if (name == null) {
            throw new CimException(CimStatus.FAILED, "Missing key (Name) in ComputerSystem");
        }
        CimBackend.Vm vm = ctx.vm(name).orElseThrow(() -> new CimException(CimStatus.NOT_FOUND,
                "No such instance (Name): no virtual system '" + name + "'"));
        String host;
        if (toSystem) {
            Object ds = args.get("DestinationSystem");
            if (!(ds instanceof CimObjectPath) || ((CimObjectPath) ds).keyString("Name") == null) {
                throw new CimException(CimStatus.INVALID_PARAMETER, "DestinationSystem must reference a Ferry_HostSystem");
            }
            host = ((CimObjectPath) ds).keyString("Name");
        } else {
            Object dh = args.get("DestinationHost");
            if (!(dh instanceof String) || ((String) dh).isBlank()) {
                throw new CimException(CimStatus.INVALID_PARAMETER, "DestinationHost is missing: name a host of the cluster");
            }
            host = ((String) dh).trim();
        }
        if (ctx.host(host).isEmpty()) {
            throw new CimException(CimStatus.INVALID_PARAMETER, "DestinationHost '" + host + "' is not a host of the cluster (hosts: "
                    + ctx.hosts().stream().map(CimBackend.Host::name).toList() + ")");
        }
        if (args.get("NewSystemSettingData") != null || args.get("NewResourceSettingData") != null
                && !((List<?>) args.get("NewResourceSettingData")).isEmpty()) {
            throw new CimException(CimStatus.NOT_SUPPORTED, "changing settings while migrating is not supported: "
                    + "NewSystemSettingData and NewResourceSettingData must be empty");
        }
        Settings s = settings(ctx, args.get("MigrationSettingData"));
        if (check) {
            return MethodResult.of(0, "IsMigratable", refusal(ctx, vm, host, s.type()) == null);
        }
        String why = refusal(ctx, vm, host, s.type());
        if (why != null) {
            throw new CimException(CimStatus.FAILED, "cannot migrate " + name + " to " + host + ": " + why);
        }
        MigrationJobs.Job job = ctx.services().jobs().start(vm, host, s.type(), s.tuning());
        ctx.changed();
        MethodResult r = MethodResult.of(4096, "Job", jobPath(job.id()));
        if (toSystem) {
            r.out().put("NewComputerSystem", VirtualSystemProfile.csPath(name));
        }
        return r;
    }

    /** Why vm cannot go to host with this migration type, or null. */
    private static String refusal(CallContext ctx, CimBackend.Vm vm, String host, int type) {
        if (type == MigrationJobs.RESTART) {
            if (host.equals(vm.host())) {
                return "VM " + vm.name() + " is already on " + host;
            }
            if (vm.migrating() || vm.lost()) {
                return "VM " + vm.name() + " is " + (vm.lost() ? "lost with its host" : "migrating");
            }
            return ctx.host(host).filter(CimBackend.Host::up).isPresent() ? null : "host " + host + " is down";
        }
        return ctx.backend().migrationRefusal(vm.name(), host).orElse(null);
    }

    private record Settings(int type, CimBackend.MigrationTuning tuning) {}

    private static Settings settings(CallContext ctx, Object msd) {
        CimBackend.MigrationTuning d = CimBackend.MigrationTuning.DEFAULT;
        if (msd == null || (msd instanceof String && ((String) msd).isBlank())) {
            return new Settings(MigrationJobs.LIVE, d);
        }
        CimInstance i = Embedded.parse(msd, ctx.repo(), VIRTUALIZATION, MSD_BASE);
        Long type = i.integer("MigrationType");
        int t = type == null || type == 0 ? MigrationJobs.LIVE : (int) (long) type;
        if (t < 2 || t > 4) {
            throw new CimException(CimStatus.INVALID_PARAMETER, "MigrationType " + type + " is not supported (2 Live, 3 Resume, 4 Restart)");
        }
        Long transport = i.integer("TransportType");
        if (transport != null && transport != 0 && transport != 5) {
            throw new CimException(CimStatus.INVALID_PARAMETER, "TransportType " + transport + " is not supported: Ferry migrates over TCP (5)");
        }
        double bandwidth = d.bandwidthMiBps();
        Long bw = i.integer("Bandwidth");
        if (bw != null && bw > 0) {
            String unit = i.string("BandwidthUnit");
            if (unit != null && !unit.replace(" ", "").equalsIgnoreCase("byte*2^20/second")) {
                throw new CimException(CimStatus.INVALID_PARAMETER, "BandwidthUnit '" + unit + "' is not supported (byte*2^20/second)");
            }
            bandwidth = bw;
        }
        long downtime = i.integer("DowntimeLimit") != null ? i.integer("DowntimeLimit") : d.downtimeLimitMs();
        int channels = i.integer("Channels") != null ? (int) (long) i.integer("Channels") : d.channels();
        String compression = i.string("Compression") != null ? i.string("Compression") : d.compression();
        boolean autoConverge = i.value("AutoConverge") instanceof Boolean ? (Boolean) i.value("AutoConverge") : d.autoConverge();
        boolean postCopy = i.value("PostCopy") instanceof Boolean ? (Boolean) i.value("PostCopy") : d.postCopy();
        long timeout = i.integer("Timeout") != null ? i.integer("Timeout") : d.timeoutSeconds();
        return new Settings(t, new CimBackend.MigrationTuning(downtime, bandwidth, channels, compression, autoConverge, postCopy, timeout));
    }

    private static MethodResult invokeOnJob(CallContext ctx, CimObjectPath target, CimClass.Method m, Map<String, Object> args) {
        UUID id = jobId(target.keyString("InstanceID")).orElseThrow(() -> new CimException(CimStatus.NOT_FOUND,
                "No such instance: " + target));
        switch (m.name()) {
            case "RequestStateChange": {
                Object rs = args.get("RequestedState");
                if (!(rs instanceof Long)) {
                    throw new CimException(CimStatus.INVALID_PARAMETER, "RequestedState is missing");
                }
                long state = (Long) rs;
                if (state != 4 && state != 5) {
                    return MethodResult.of(1); // only Terminate and Kill: a migration cannot be suspended
                }
                boolean cancelled = ctx.services().jobs().terminate(ctx, id);
                ctx.changed();
                return MethodResult.of(cancelled ? 0 : 4097);
            }
            case "GetError": {
                MigrationJobs.Job j = ctx.services().jobs().get(ctx, id).orElseThrow(() -> new CimException(CimStatus.NOT_FOUND,
                        "No such instance: no migration job " + id));
                if (j.error().isEmpty()) {
                    return MethodResult.of(0);
                }
                CimInstance error = ctx.instance(VIRTUALIZATION, "CIM_Error")
                        .set("ErrorType", 4)
                        .set("OwningEntity", "Ferry")
                        .set("MessageID", "FERRY0001")
                        .set("Message", j.error())
                        .set("PerceivedSeverity", 5)
                        .set("ProbableCause", 0)
                        .set("CIMStatusCode", 1L)
                        .set("CIMStatusCodeDescription", "CIM_ERR_FAILED")
                        .build();
                return MethodResult.of(0, "Error", new CimInstance(error.className(), null, error.properties()));
            }
            default:
                throw new CimException(CimStatus.METHOD_NOT_AVAILABLE, m.name() + " is not available on " + JOB);
        }
    }
}
