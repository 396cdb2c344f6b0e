package io.ferryvm.cim;

import static io.ferryvm.cim.Names.VIRTUALIZATION;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns cluster changes into indications and delivers them (CIM-XML ExportIndication over HTTP) to the
 * listeners whose subscriptions' filters select them:
 * Ferry_ComputerSystem{Created,Modified,Deleted}Indication for VMs and
 * Ferry_ComputerSystemMigrationJob{Created,Modified,Deleted}Indication for migration jobs, each with
 * SourceInstance (and PreviousInstance for a modification) embedded.
 *
 * <p>Implementation notes: backend events arrive on the backend's threads and are only queued here;
 * one worker builds the indications and posts them in order, with short timeouts and no redirects
 * (destinations were checked against the allow-list, a redirect could leave it). The last instance of
 * each VM and job is kept to tell a creation from a modification and to fill PreviousInstance.
 */
final class Indications implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Indications.class);
    static final String CS_CREATED = "Ferry_ComputerSystemCreatedIndication";
    static final String CS_MODIFIED = "Ferry_ComputerSystemModifiedIndication";
    static final String CS_DELETED = "Ferry_ComputerSystemDeletedIndication";
    static final String JOB_CREATED = "Ferry_ComputerSystemMigrationJobCreatedIndication";
    static final String JOB_MODIFIED = "Ferry_ComputerSystemMigrationJobModifiedIndication";
    static final String JOB_DELETED = "Ferry_ComputerSystemMigrationJobDeletedIndication";

    private final Services services;
    private final String host;
    private final ExecutorService worker;
    private final HttpClient http;
    private final Map<String, CimInstance> lastVm = new ConcurrentHashMap<>();
    private final Map<UUID, CimInstance> lastJob = new ConcurrentHashMap<>();
    private final AtomicLong sequence = new AtomicLong();
    private final String sequenceContext = UUID.randomUUID().toString();
    private volatile AutoCloseable subscription;

    Indications(Services services, String host, ExecutorService worker) {
        this.services = services;
        this.host = host;
        this.worker = worker;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    void start() {
        CallContext ctx = context();
        try {
            for (CimBackend.Vm v : ctx.vms()) {
                lastVm.put(v.name(), VirtualSystemProfile.computerSystem(ctx, v));
            }
        } catch (RuntimeException e) {
            LOG.warn("indications: could not list the VMs at start ({}); they will be reported as created when they change", e.getMessage());
        }
        services.jobs().onChange(c -> worker.execute(() -> guarded(() -> jobChanged(c))));
        subscription = services.backend().subscribe(e -> worker.execute(() -> guarded(() -> onEvent(e))));
    }

    private CallContext context() {
        return new CallContext(services, "indications", VIRTUALIZATION);
    }

    private static void guarded(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            LOG.warn("indications: {}", e.toString());
        }
    }

    private void onEvent(CimBackend.Event e) {
        if (e instanceof CimBackend.VmUpdated) {
            CimBackend.Vm v = ((CimBackend.VmUpdated) e).vm();
            CimInstance now = VirtualSystemProfile.computerSystem(context(), v);
            CimInstance before = lastVm.put(v.name(), now);
            if (before == null) {
                raise(CS_CREATED, now, null);
            } else if (!sameValues(before, now)) {
                raise(CS_MODIFIED, now, before);
            }
        } else if (e instanceof CimBackend.VmRemoved) {
            CimBackend.VmRemoved r = (CimBackend.VmRemoved) e;
            CimInstance before = lastVm.remove(r.name());
            services.requestedStates().forget(r.id());
            if (before != null) {
                raise(CS_DELETED, before, null);
            }
        } else if (e instanceof CimBackend.MigrationUpdated) {
            services.jobs().onMigration(((CimBackend.MigrationUpdated) e).migration());
        }
    }

    /** A job changed: the indication shows it as it was at that change, however soon the next one came. */
    private void jobChanged(MigrationJobs.Change change) {
        UUID id = change.id();
        if (change.job() == null) {
            CimInstance before = lastJob.remove(id);
            if (before != null) {
                raise(JOB_DELETED, before, null);
            }
            return;
        }
        CimInstance now = MigrationProfile.job(context(), change.job());
        CimInstance before = lastJob.put(id, now);
        if (before == null) {
            raise(JOB_CREATED, now, null);
        } else if (!before.value("JobState").equals(now.value("JobState"))
                || !before.value("PercentComplete").equals(now.value("PercentComplete"))
                || !String.valueOf(before.value("JobStatus")).equals(String.valueOf(now.value("JobStatus")))) {
            raise(JOB_MODIFIED, now, before);
        }
        if (change.job().isEnded() && lastJob.size() > 1000) {
            lastJob.remove(id); // bound the memory; an ended job changes no more
        }
    }

    static boolean sameValues(CimInstance a, CimInstance b) {
        List<CimProperty> pa = a.properties();
        List<CimProperty> pb = b.properties();
        if (pa.size() != pb.size()) {
            return false;
        }
        for (int i = 0; i < pa.size(); i++) {
            if (!pa.get(i).name().equals(pb.get(i).name()) || !java.util.Objects.equals(pa.get(i).value(), pb.get(i).value())) {
                return false;
            }
        }
        return true;
    }

    private void raise(String cls, CimInstance source, CimInstance previous) {
        List<Subscriptions.Subscription> subs = services.subscriptions().subscriptions();
        if (subs.isEmpty()) {
            return;
        }
        CallContext ctx = context();
        InstanceBuilder b = ctx.instance(VIRTUALIZATION, cls)
                .set("IndicationIdentifier", sequenceContext + ":" + sequence.incrementAndGet())
                .set("IndicationTime", CimDateTime.of(services.clock().instant()))
                .set("PerceivedSeverity", 2)
                .set("SourceInstance", new CimInstance(source.className(), null, source.properties()))
                .set("SourceInstanceModelPath", source.path().toString())
                .set("SourceInstanceHost", host)
                .set("SequenceContext", sequenceContext);
        if (previous != null) {
            b.set("PreviousInstance", new CimInstance(previous.className(), null, previous.properties()));
        }
        CimInstance indication = b.build();
        for (Subscriptions.Subscription s : subs) {
            if (!s.enabled()) {
                continue;
            }
            Subscriptions.Filter f = services.subscriptions().filter(s.filter());
            Subscriptions.Handler h = services.subscriptions().handler(s.handler());
            if (f == null || h == null || !services.repo().isA(VIRTUALIZATION, cls, f.query().className())
                    || !f.query().matches(indication, services.repo(), VIRTUALIZATION)) {
                continue;
            }
            deliver(h, indication, f.instance().string("Name"));
        }
    }

    private void deliver(Subscriptions.Handler h, CimInstance indication, String filterName) {
        StringBuilder b = new StringBuilder(4096);
        CimXmlWriter w = new CimXmlWriter(b, host);
        long id = sequence.get();
        b.append("<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE ID=\"")
                .append(id).append("\" PROTOCOLVERSION=\"1.0\"><SIMPLEEXPREQ><EXPMETHODCALL NAME=\"ExportIndication\">")
                .append("<EXPPARAMVALUE NAME=\"NewIndication\">");
        List<CimProperty> props = new java.util.ArrayList<>(indication.properties());
        props.add(new CimProperty("IndicationFilterName", CimType.STRING, false, filterName, null, false, null, false));
        w.instance(new CimInstance(indication.className(), null, props), false);
        b.append("</EXPPARAMVALUE></EXPMETHODCALL></SIMPLEEXPREQ></MESSAGE></CIM>\n");
        HttpRequest req = HttpRequest.newBuilder(h.destination())
                .timeout(Duration.ofSeconds(5))
                .header("Content-Type", "application/xml; charset=\"utf-8\"")
                .header("CIMProtocolVersion", "1.0")
                .header("CIMExport", "MethodRequest")
                .header("CIMExportMethod", "ExportIndication")
                .POST(HttpRequest.BodyPublishers.ofString(b.toString(), StandardCharsets.UTF_8))
                .build();
        try {
            HttpResponse<Void> r = http.send(req, HttpResponse.BodyHandlers.discarding());
            if (r.statusCode() != 200) {
                LOG.warn("indication {} to {}: HTTP {}", indication.className(), h.destination(), r.statusCode());
            }
        } catch (java.io.IOException e) {
            LOG.warn("indication {} to {} not delivered: {}", indication.className(), h.destination(), e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        AutoCloseable s = subscription;
        if (s != null) {
            try {
                s.close();
            } catch (Exception e) {
                LOG.debug("closing the backend subscription: {}", e.toString());
            }
        }
    }
}
