package io.ferryvm.cluster.cim;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.cim.CimServer;
import io.ferryvm.cim.CimServerConfig;
import io.ferryvm.cim.CimUser;
import io.ferryvm.cim.PasswordHash;
import io.ferryvm.cluster.api.ClusterApi;
import io.ferryvm.cluster.node.EmbeddedCluster;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol;
import io.ferryvm.core.VmStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.security.auth.Subject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sentrysoftware.wbem.javax.cim.CIMArgument;
import org.sentrysoftware.wbem.javax.cim.CIMDataType;
import org.sentrysoftware.wbem.javax.cim.CIMInstance;
import org.sentrysoftware.wbem.javax.cim.CIMObjectPath;
import org.sentrysoftware.wbem.javax.cim.CIMProperty;
import org.sentrysoftware.wbem.javax.cim.UnsignedInteger16;
import org.sentrysoftware.wbem.javax.cim.UnsignedInteger32;
import org.sentrysoftware.wbem.javax.wbem.CloseableIterator;
import org.sentrysoftware.wbem.javax.wbem.WBEMException;
import org.sentrysoftware.wbem.javax.wbem.client.EnumerateResponse;
import org.sentrysoftware.wbem.javax.wbem.client.PasswordCredential;
import org.sentrysoftware.wbem.javax.wbem.client.UserPrincipal;
import org.sentrysoftware.wbem.javax.wbem.client.WBEMClient;
import org.sentrysoftware.wbem.javax.wbem.client.WBEMClientConstants;
import org.sentrysoftware.wbem.javax.wbem.client.WBEMClientFactory;
import org.sentrysoftware.wbem.javax.wbem.listener.WBEMListener;
import org.sentrysoftware.wbem.javax.wbem.listener.WBEMListenerFactory;

/**
 * The Java WBEM client (JSR48, org.sentrysoftware:wbem) against a running two-host Ferry cluster: it
 * subscribes an indication listener, defines a VM (CIM-XML embedded instances), starts it, enumerates
 * with the pull operations, live-migrates it and receives the migration job's indications until
 * Completed, and the cluster confirms the VM moved.
 */
class CimJavaClientIT {
    private static final String V = "root/virtualization";
    private static final String I = "root/interop";
    private static final String PASSWORD = "java-" + Long.toHexString(System.nanoTime());
    @TempDir
    static Path dir;
    static EmbeddedCluster cluster;
    static ClusterApi api;
    static WBEMClient client;
    static WBEMListener listener;
    static int listenerPort;
    static final List<CIMInstance> received = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        CimServerConfig config = CimServerConfig.loopback(0, -1, dir.resolve("cim"),
                List.of(CimUser.administrator("admin", PasswordHash.hash(PASSWORD.toCharArray())))).withListenerAllowList(List.of("127.0.0.1"));
        cluster = EmbeddedCluster.start(2, dir, 0, Duration.ofSeconds(3), config);
        api = cluster.first().api();
        CimServer cim = cluster.first().cimServer();
        String port = cim.httpUrl().substring(cim.httpUrl().lastIndexOf(':') + 1);
        client = WBEMClientFactory.getClient(WBEMClientConstants.PROTOCOL_CIMXML);
        Subject subject = new Subject();
        subject.getPrincipals().add(new UserPrincipal("admin"));
        subject.getPrivateCredentials().add(new PasswordCredential(PASSWORD));
        client.initialize(new CIMObjectPath("http", "127.0.0.1", port, null, null, null), subject, new Locale[] {Locale.US});
        listener = WBEMListenerFactory.getListener(WBEMClientConstants.PROTOCOL_CIMXML);
        listenerPort = listener.addListener((url, indication) -> received.add(indication), 0, "http", "127.0.0.1");
    }

    @AfterAll
    static void stop() {
        if (listener != null) {
            listener.removeListener(listenerPort);
        }
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    static CIMObjectPath cls(String ns, String name) {
        return new CIMObjectPath(null, null, null, ns, name, null);
    }

    static CIMProperty<String> key(String name, String value) {
        return new CIMProperty<>(name, CIMDataType.STRING_T, value, true, false, null);
    }

    static CIMObjectPath vm(String name) {
        return new CIMObjectPath(null, null, null, V, "Ferry_ComputerSystem", new CIMProperty<?>[] {
            key("CreationClassName", "Ferry_ComputerSystem"), key("Name", name)});
    }

    static CIMObjectPath service(String cls, String host, String name) {
        return new CIMObjectPath(null, null, null, V, cls, new CIMProperty<?>[] {
            key("SystemCreationClassName", "Ferry_HostSystem"), key("SystemName", host), key("CreationClassName", cls), key("Name", name)});
    }

    static CIMObjectPath create(String cls, CIMProperty<?>... props) throws WBEMException {
        return client.createInstance(new CIMInstance(cls(I, cls), props));
    }

    static CIMProperty<String> str(String name, String value) {
        return new CIMProperty<>(name, CIMDataType.STRING_T, value);
    }

    static OrchestratorProtocol.VmView view(String name) throws Exception {
        OrchestratorProtocol.Result r = api.vm(name).toCompletableFuture().get(30, TimeUnit.SECONDS);
        assertTrue(r.ok(), r.message());
        return r.vm();
    }

    @Test
    void defineStartPullMigrateAndListen() throws Exception {
        // 1. an indication subscription for migration jobs and VM changes
        CIMObjectPath filter = create("CIM_IndicationFilter", str("Name", "java-jobs"),
                str("Query", "SELECT * FROM CIM_InstIndication WHERE SourceInstance ISA Ferry_MigrationJob"),
                str("QueryLanguage", "WQL"), str("SourceNamespace", V));
        CIMObjectPath handler = create("CIM_ListenerDestinationCIMXML", str("Name", "java-listener"),
                str("Destination", "http://127.0.0.1:" + listenerPort + "/"));
        create("CIM_IndicationSubscription", new CIMProperty<>("Filter", new CIMDataType("CIM_IndicationFilter"), filter),
                new CIMProperty<>("Handler", new CIMDataType("CIM_ListenerDestinationCIMXML"), handler));

        // 2. DefineSystem with CIM-XML embedded instances (as the JSR48 client's string parameters)
        String vssd = "<INSTANCE CLASSNAME=\"Ferry_VirtualSystemSettingData\"><PROPERTY NAME=\"ElementName\" TYPE=\"string\">"
                + "<VALUE>app</VALUE></PROPERTY><PROPERTY NAME=\"Workload\" TYPE=\"string\"><VALUE>random rate=4 seed=3</VALUE>"
                + "</PROPERTY></INSTANCE>";
        String proc = "<INSTANCE CLASSNAME=\"Ferry_ProcessorAllocationSettingData\"><PROPERTY NAME=\"VirtualQuantity\" TYPE=\"uint64\">"
                + "<VALUE>2</VALUE></PROPERTY></INSTANCE>";
        String mem = "<INSTANCE CLASSNAME=\"Ferry_MemoryAllocationSettingData\"><PROPERTY NAME=\"VirtualQuantity\" TYPE=\"uint64\">"
                + "<VALUE>48</VALUE></PROPERTY></INSTANCE>";
        CIMArgument<?>[] out = new CIMArgument<?>[2];
        Object rv = client.invokeMethod(service("Ferry_VirtualSystemManagementService", "host2", "Management Service"), "DefineSystem",
                new CIMArgument<?>[] {new CIMArgument<>("SystemSettings", CIMDataType.STRING_T, vssd),
                    new CIMArgument<>("ResourceSettings", CIMDataType.STRING_ARRAY_T, new String[] {proc, mem})}, out);
        assertEquals(0L, ((Number) rv).longValue());
        assertEquals("ResultingSystem", out[0].getName());
        OrchestratorProtocol.VmView defined = view("app");
        assertEquals("host2", defined.host());
        assertEquals(2, defined.spec().vcpus());
        assertEquals(48L << 20, defined.spec().memoryBytes());
        assertEquals("random", defined.spec().workload().program());

        // 3. start it
        Object started = client.invokeMethod(vm("app"), "RequestStateChange", new CIMArgument<?>[] {
            new CIMArgument<>("RequestedState", CIMDataType.UINT16_T, new UnsignedInteger16(2))}, new CIMArgument<?>[1]);
        assertEquals(0L, ((Number) started).longValue());
        assertEquals(VmStatus.RUNNING, view("app").info().status());
        assertEquals(new UnsignedInteger16(2), client.getInstance(vm("app"), false, false, null).getPropertyValue("EnabledState"));

        // 4. pull operations: every managed element, 10 at a time; the VM's devices; their paths
        EnumerateResponse<CIMInstance> page = client.enumerateInstances(cls(V, "CIM_ManagedElement"), true, false, null, null, null,
                new UnsignedInteger32(60), false, new UnsignedInteger32(10));
        int pages = 1;
        Set<String> classes = new HashSet<>();
        drain(page.getResponses(), classes);
        while (!page.isEnd()) {
            page = client.getInstancesWithPath(cls(V, "CIM_ManagedElement"), page.getContext(), new UnsignedInteger32(10));
            drain(page.getResponses(), classes);
            pages++;
        }
        assertTrue(pages > 2, "several pulls: " + pages);
        assertTrue(classes.containsAll(Set.of("Ferry_ComputerSystem", "Ferry_HostSystem", "Ferry_ProcessorPool", "Ferry_MemoryPool")),
                classes.toString());
        EnumerateResponse<CIMInstance> devices = client.associators(vm("app"), "CIM_SystemDevice", null, null, null, false, null, null, null,
                new UnsignedInteger32(60), false, new UnsignedInteger32(100));
        List<String> ids = new ArrayList<>();
        while (devices.getResponses().hasNext()) {
            ids.add(String.valueOf(devices.getResponses().next().getPropertyValue("DeviceID")));
        }
        assertTrue(devices.isEnd());
        assertEquals(Set.of("proc0", "proc1", "mem"), new HashSet<>(ids));
        EnumerateResponse<CIMObjectPath> paths = client.enumerateInstancePaths(cls(V, "Ferry_HostSystem"), null, null,
                new UnsignedInteger32(60), false, new UnsignedInteger32(10));
        int hosts = 0;
        while (paths.getResponses().hasNext()) {
            paths.getResponses().next();
            hosts++;
        }
        assertEquals(2, hosts);

        // 5. live migration, followed through the job and its indications
        CIMArgument<?>[] jobOut = new CIMArgument<?>[1];
        Object migrated = client.invokeMethod(service("Ferry_VirtualSystemMigrationService", "host2", "Migration Service"),
                "MigrateVirtualSystemToHost", new CIMArgument<?>[] {
                    new CIMArgument<>("ComputerSystem", new CIMDataType("Ferry_ComputerSystem"), vm("app")),
                    new CIMArgument<>("DestinationHost", CIMDataType.STRING_T, "host1"),
                    new CIMArgument<>("MigrationSettingData", CIMDataType.STRING_T,
                            "instance of Ferry_VirtualSystemMigrationSettingData { MigrationType = 2; DowntimeLimit = 500; };")}, jobOut);
        assertEquals(4096L, ((Number) migrated).longValue());
        CIMObjectPath job = (CIMObjectPath) jobOut[0].getValue();
        String jobId = job.getKeyValue("InstanceID").toString();
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
            CIMInstance j = client.getInstance(job, false, false, null);
            assertFalse(new UnsignedInteger16(10).equals(j.getPropertyValue("JobState")), "the job failed: " + j.getPropertyValue("ErrorDescription"));
            assertEquals(new UnsignedInteger16(7), j.getPropertyValue("JobState"));
        });
        assertEquals("host1", view("app").host(), "the cluster sees the VM on host1");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            List<CIMInstance> jobs = received.stream()
                    .filter(i -> i.getClassName().startsWith("Ferry_ComputerSystemMigrationJob"))
                    .filter(i -> jobId.equals(((CIMInstance) i.getPropertyValue("SourceInstance")).getPropertyValue("InstanceID")))
                    .toList();
            assertTrue(jobs.stream().anyMatch(i -> i.getClassName().equals("Ferry_ComputerSystemMigrationJobCreatedIndication")), jobs.toString());
            assertTrue(jobs.stream().anyMatch(i -> i.getClassName().equals("Ferry_ComputerSystemMigrationJobModifiedIndication")
                    && new UnsignedInteger16(7).equals(((CIMInstance) i.getPropertyValue("SourceInstance")).getPropertyValue("JobState"))),
                    "a Completed job indication arrived");
        });

        // 6. a query and a refusal the client sees as its exception
        CloseableIterator<CIMInstance> q = client.execQuery(cls(V, "Ferry_ComputerSystem"),
                "SELECT * FROM Ferry_ComputerSystem WHERE HostName = 'host1' AND EnabledState = 2", "WQL");
        assertTrue(q.hasNext());
        assertEquals("app", q.next().getPropertyValue("Name"));
        q.close();
        WBEMException notFound = assertThrows(WBEMException.class, () -> client.getInstance(vm("no-such-vm"), false, false, null));
        assertEquals(WBEMException.CIM_ERR_NOT_FOUND, notFound.getID());
    }

    private static void drain(CloseableIterator<CIMInstance> it, Set<String> classes) {
        while (it.hasNext()) {
            classes.add(it.next().getClassName());
        }
    }
}
