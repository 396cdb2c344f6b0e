package io.ferryvm.cim;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.ferryvm.core.VmSpec;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Subscriptions in root/interop and CIM-XML ExportIndication delivery to listeners on 127.0.0.1. */
class IndicationsTest {
    @TempDir
    static Path dir;
    static TestServer server;
    static InMemoryBackend backend;
    static RawClient c;
    static final String I = "root/interop";

    /** A CIM-XML listener: records the indications it is sent, by class name. */
    static final class Listener implements AutoCloseable {
        final HttpServer http;
        final List<CimInstance> received = new CopyOnWriteArrayList<>();
        final List<String> headers = new CopyOnWriteArrayList<>();

        Listener() throws IOException {
            http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            http.createContext("/", ex -> {
                byte[] body = ex.getRequestBody().readAllBytes();
                headers.add(ex.getRequestHeaders().getFirst("CIMExport") + " " + ex.getRequestHeaders().getFirst("CIMExportMethod"));
                try {
                    XmlTree.Node cim = XmlTree.parse(body, XmlTree.Limits.DEFAULT);
                    XmlTree.Node call = cim.child("MESSAGE").child("SIMPLEEXPREQ").child("EXPMETHODCALL");
                    received.add(CimXmlReader.instance(call.child("EXPPARAMVALUE").child("INSTANCE")));
                } catch (XmlTree.MalformedXml e) {
                    throw new IOException(e);
                }
                byte[] ok = ("<?xml version=\"1.0\" encoding=\"utf-8\" ?><CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE ID=\"1\" "
                        + "PROTOCOLVERSION=\"1.0\"><SIMPLEEXPRSP><EXPMETHODRESPONSE NAME=\"ExportIndication\"/></SIMPLEEXPRSP></MESSAGE></CIM>")
                        .getBytes(StandardCharsets.UTF_8);
                ex.getResponseHeaders().add("CIMExport", "MethodResponse");
                ex.sendResponseHeaders(200, ok.length);
                ex.getResponseBody().write(ok);
                ex.close();
            });
            http.start();
        }

        String url() {
            return "http://127.0.0.1:" + http.getAddress().getPort() + "/listener";
        }

        List<CimInstance> of(String cls) {
            return received.stream().filter(i -> i.className().equals(cls)).toList();
        }

        @Override
        public void close() {
            http.stop(0);
        }
    }

    @BeforeAll
    static void start() {
        backend = new InMemoryBackend("host1", "host2");
        server = new TestServer(dir, backend);
        c = RawClient.admin(server);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static CimObjectPath create(String cls, String properties) {
        RawClient.Answer a = c.call("CreateInstance", I, RawClient.iparam("NewInstance", "<INSTANCE CLASSNAME=\"" + cls + "\">"
                + properties + "</INSTANCE>"));
        List<XmlTree.Node> r = a.returned();
        return CimXmlReader.instanceName(r.get(0)).withNamespace(I);
    }

    static String prop(String name, String value) {
        return "<PROPERTY NAME=\"" + name + "\" TYPE=\"string\"><VALUE>" + CimXmlWriter.escape(value) + "</VALUE></PROPERTY>";
    }

    static String ref(String name, CimObjectPath p) {
        StringBuilder b = new StringBuilder("<PROPERTY.REFERENCE NAME=\"" + name + "\">");
        new CimXmlWriter(b, "x").valueReference(p);
        return b.append("</PROPERTY.REFERENCE>").toString();
    }

    static CimObjectPath subscribe(String name, String query, String destination) {
        CimObjectPath f = create("CIM_IndicationFilter", prop("Name", name) + prop("Query", query) + prop("QueryLanguage", "WQL")
                + prop("SourceNamespace", "root/virtualization"));
        CimObjectPath h = create("CIM_ListenerDestinationCIMXML", prop("Name", name) + prop("Destination", destination));
        return create("CIM_IndicationSubscription", ref("Filter", f) + ref("Handler", h));
    }

    @Test
    void computerSystemIndicationsReachSubscribedListeners() throws Exception {
        try (Listener all = new Listener(); Listener paused = new Listener()) {
            subscribe("cs-all", "SELECT * FROM CIM_InstIndication WHERE SourceInstance ISA Ferry_ComputerSystem", all.url());
            subscribe("cs-paused", "SELECT * FROM Ferry_ComputerSystemModifiedIndication WHERE SourceInstance.EnabledState = 9",
                    paused.url());
            backend.define(VmSpec.of("ind", 1, 64L << 20, null), "host1");
            backend.changeState("ind", CimBackend.StateChange.START);
            backend.changeState("ind", CimBackend.StateChange.PAUSE);
            backend.changeState("ind", CimBackend.StateChange.STOP);
            backend.destroy("ind");
            await().atMost(Duration.ofSeconds(20)).until(() -> all.of(Indications.CS_DELETED).size() == 1);
            assertEquals(1, all.of(Indications.CS_CREATED).size());
            List<CimInstance> modified = all.of(Indications.CS_MODIFIED);
            assertEquals(3, modified.size(), "start, pause, stop");
            CimInstance pause = modified.get(1);
            CimInstance now = CimXmlReader.instance(XmlTree.parse((String) pause.value("SourceInstance"), XmlTree.Limits.DEFAULT));
            CimInstance before = CimXmlReader.instance(XmlTree.parse((String) pause.value("PreviousInstance"), XmlTree.Limits.DEFAULT));
            assertEquals("9", String.valueOf(now.value("EnabledState")));
            assertEquals("2", String.valueOf(before.value("EnabledState")));
            assertEquals("cs-all", pause.value("IndicationFilterName"));
            assertTrue(all.headers.stream().allMatch(h -> h.equals("MethodRequest ExportIndication")), all.headers.toString());
            assertEquals(1, paused.received.size(), "only the pause matched that filter");
        }
    }

    @Test
    void migrationJobIndicationsFollowTheJob() throws Exception {
        try (Listener jobs = new Listener()) {
            subscribe("jobs", "SELECT * FROM CIM_InstIndication WHERE SourceInstance ISA Ferry_MigrationJob", jobs.url());
            backend.define(VmSpec.of("jobvm", 1, 64L << 20, null), "host1");
            backend.changeState("jobvm", CimBackend.StateChange.START);
            RawClient.Answer a = c.invoke(MigrationProfile.servicePath("host1"), "MigrateVirtualSystemToHost",
                    RawClient.refParam("ComputerSystem", VirtualSystemProfile.csPath("jobvm")) + RawClient.param("DestinationHost", "host2"));
            UUID id = UUID.fromString(CimXmlReader.reference(a.outParam("Job").child("VALUE.REFERENCE")).keyString("InstanceID"));
            backend.progress(id, 50);
            backend.finish(id, true);
            await().atMost(Duration.ofSeconds(20)).until(() -> jobs.of(Indications.JOB_MODIFIED).stream()
                    .anyMatch(i -> String.valueOf(embedded(i).value("JobState")).equals("7")));
            assertEquals(1, jobs.of(Indications.JOB_CREATED).size());
            assertTrue(jobs.of(Indications.JOB_MODIFIED).stream().anyMatch(i -> String.valueOf(embedded(i).value("PercentComplete")).equals("50")));
            assertEquals(0, c.call("DeleteInstance", "root/virtualization", RawClient.iparam("InstanceName",
                    RawClient.instanceName(MigrationProfile.jobPath(id)))).code());
            await().atMost(Duration.ofSeconds(20)).until(() -> jobs.of(Indications.JOB_DELETED).size() == 1);
        }
    }

    private static CimInstance embedded(CimInstance indication) {
        try {
            return CimXmlReader.instance(XmlTree.parse((String) indication.value("SourceInstance"), XmlTree.Limits.DEFAULT));
        } catch (XmlTree.MalformedXml e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void disabledSubscriptionsDeliverNothing() throws Exception {
        try (Listener off = new Listener(); Listener on = new Listener()) {
            CimObjectPath sub = subscribe("off", "SELECT * FROM Ferry_ComputerSystemCreatedIndication", off.url());
            StringBuilder inst = new StringBuilder("<VALUE.NAMEDINSTANCE>").append(RawClient.instanceName(sub))
                    .append("<INSTANCE CLASSNAME=\"CIM_IndicationSubscription\"><PROPERTY NAME=\"SubscriptionState\" TYPE=\"uint16\">"
                            + "<VALUE>4</VALUE></PROPERTY></INSTANCE></VALUE.NAMEDINSTANCE>");
            assertEquals(0, c.call("ModifyInstance", I, RawClient.iparam("ModifiedInstance", inst.toString())
                    + RawClient.iparam("PropertyList", "<VALUE.ARRAY><VALUE>SubscriptionState</VALUE></VALUE.ARRAY>")).code());
            subscribe("on", "SELECT * FROM Ferry_ComputerSystemCreatedIndication", on.url()); // after "off": delivered later
            backend.define(VmSpec.of("quiet", 1, 64L << 20, null), "host2");
            await().atMost(Duration.ofSeconds(20)).until(() -> on.received.size() == 1);
            assertEquals(0, off.received.size());
        }
    }

    @Test
    void subscriptionsAreValidatedAndGuarded() {
        RawClient.Answer ssrf = c.call("CreateInstance", I, RawClient.iparam("NewInstance", "<INSTANCE CLASSNAME=\"CIM_ListenerDestinationCIMXML\">"
                + prop("Name", "evil") + prop("Destination", "http://169.254.169.254/latest/meta-data/") + "</INSTANCE>"));
        assertEquals(2, ssrf.code(), "a destination outside the allow-list: " + ssrf.description());
        assertEquals(4, c.call("CreateInstance", I, RawClient.iparam("NewInstance", "<INSTANCE CLASSNAME=\"CIM_IndicationHandlerCIMXML\">"
                + prop("Name", "file") + prop("Destination", "file:///etc/passwd") + "</INSTANCE>")).code());
        assertEquals(15, c.call("CreateInstance", I, RawClient.iparam("NewInstance", "<INSTANCE CLASSNAME=\"CIM_IndicationFilter\">"
                + prop("Query", "SELECT * FROM Ferry_ComputerSystem") + prop("QueryLanguage", "WQL") + "</INSTANCE>")).code(),
                "a filter selects indications, not instances");
        assertEquals(14, c.call("CreateInstance", I, RawClient.iparam("NewInstance", "<INSTANCE CLASSNAME=\"CIM_IndicationFilter\">"
                + prop("Query", "SELECT * FROM CIM_InstCreation") + prop("QueryLanguage", "XPath") + "</INSTANCE>")).code());
        assertEquals(4, c.call("CreateInstance", I, RawClient.iparam("NewInstance", "<INSTANCE CLASSNAME=\"CIM_IndicationSubscription\">"
                + "</INSTANCE>")).code(), "a subscription without Filter and Handler");
        CimObjectPath f = create("CIM_IndicationFilter", prop("Name", "in-use") + prop("Query", "SELECT * FROM CIM_InstCreation")
                + prop("QueryLanguage", "DMTF:CQL"));
        assertEquals(11, c.call("CreateInstance", I, RawClient.iparam("NewInstance", "<INSTANCE CLASSNAME=\"CIM_IndicationFilter\">"
                + prop("Name", "in-use") + prop("Query", "SELECT * FROM CIM_InstCreation") + prop("QueryLanguage", "WQL") + "</INSTANCE>")).code());
        CimObjectPath h = create("CIM_IndicationHandlerCIMXML", prop("Name", "in-use") + prop("Destination", "http://127.0.0.1:1/"));
        CimObjectPath s = create("CIM_IndicationSubscription", ref("Filter", f) + ref("Handler", h));
        assertEquals(1, c.call("DeleteInstance", I, RawClient.iparam("InstanceName", RawClient.instanceName(f))).code(),
                "a filter in use stays");
        assertEquals(0, c.call("DeleteInstance", I, RawClient.iparam("InstanceName", RawClient.instanceName(s))).code());
        assertEquals(0, c.call("DeleteInstance", I, RawClient.iparam("InstanceName", RawClient.instanceName(f))).code());
        assertEquals(0, c.call("DeleteInstance", I, RawClient.iparam("InstanceName", RawClient.instanceName(h))).code());
        RawClient auditor = new RawClient(server.http(), TestServer.AUDITOR, TestServer.PASSWORD);
        assertEquals(2, auditor.call("CreateInstance", I, RawClient.iparam("NewInstance", "<INSTANCE CLASSNAME=\"CIM_IndicationFilter\">"
                + prop("Query", "SELECT * FROM CIM_InstCreation") + prop("QueryLanguage", "WQL") + "</INSTANCE>")).code(),
                "read-only users subscribe to nothing");
    }
}
