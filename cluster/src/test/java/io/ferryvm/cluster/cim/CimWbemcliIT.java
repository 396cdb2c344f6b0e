package io.ferryvm.cluster.cim;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.cim.CimServer;
import io.ferryvm.cim.CimServerConfig;
import io.ferryvm.cim.CimUser;
import io.ferryvm.cim.PasswordHash;
import io.ferryvm.cluster.api.ClusterApi;
import io.ferryvm.cluster.node.EmbeddedCluster;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmStatus;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * A user with Debian's sblim-wbemcli against a running two-host Ferry cluster: browsing (ecn, gc, ein,
 * ei, gi, ai, ain, ri, rin), defining a VM with DefineSystem and MOF embedded instances, starting,
 * pausing and stopping it with RequestStateChange, changing it (cm, mi), subscriptions (ci, di), a live
 * migration polled to Completed, each checked against the cluster itself (ClusterApi and REST), and
 * the refusals a user sees. The steps build on one another, in order.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CimWbemcliIT {
    private static final String PASSWORD = "wbemcli-" + Long.toHexString(System.nanoTime());
    @TempDir
    static Path dir;
    static EmbeddedCluster cluster;
    static ClusterApi api;
    static CimServer cim;
    static String url;
    static String hostPort;

    @BeforeAll
    static void start() {
        Wbemcli.require();
        CimServerConfig config = CimServerConfig.loopback(0, 0, dir.resolve("cim"),
                List.of(CimUser.administrator("admin", PasswordHash.hash(PASSWORD.toCharArray())))).withListenerAllowList(List.of("127.0.0.1"));
        cluster = EmbeddedCluster.start(2, dir, 0, Duration.ofSeconds(3), config);
        api = cluster.first().api();
        cim = cluster.first().cimServer();
        hostPort = cim.httpUrl().substring("http://".length());
        url = "http://admin:" + PASSWORD + "@" + hostPort;
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    static String v(String rest) {
        return url + "/root/virtualization:" + rest;
    }

    static String cs(String vm) {
        return v("Ferry_ComputerSystem.CreationClassName=\"Ferry_ComputerSystem\",Name=\"" + vm + "\"");
    }

    static String service(String cls, String host, String name) {
        return v(cls + ".SystemCreationClassName=\"Ferry_HostSystem\",SystemName=\"" + host + "\",CreationClassName=\"" + cls
                + "\",Name=\"" + name + "\"");
    }

    static OrchestratorProtocol.VmView view(String vm) throws Exception {
        OrchestratorProtocol.Result r = api.vm(vm).toCompletableFuture().get(30, TimeUnit.SECONDS);
        assertTrue(r.ok(), r.message());
        return r.vm();
    }

    @Test
    @Order(1)
    void browsingTheSchemaAndTheHosts() {
        String classes = Wbemcli.ok("ecn", url + "/root/virtualization:");
        assertTrue(classes.contains(":Ferry_ComputerSystem\n") && classes.contains(":Ferry_VirtualSystemMigrationService\n"), classes);
        String gc = Wbemcli.ok("gc", v("Ferry_VirtualSystemManagementService"));
        assertTrue(gc.contains("SystemName=") && gc.contains("CreationClassName="), gc);
        String hosts = Wbemcli.ok("ein", v("Ferry_HostSystem"));
        assertTrue(hosts.contains("Name=\"host1\"") && hosts.contains("Name=\"host2\""), hosts);
        String pools = Wbemcli.ok("-nl", "ei", v("Ferry_ProcessorPool"));
        assertTrue(pools.contains("-PoolID=\"host1/Processor/node1\"") && pools.contains("-Capacity=16"), pools);
        String https = Wbemcli.ok("-cacert", cim.certificateFile().toString(), "ein", "https://admin:" + PASSWORD + "@"
                + cim.httpsUrl().substring("https://".length()) + "/root/virtualization:Ferry_HostSystem");
        assertTrue(https.contains("Name=\"host2\""), "HTTPS with the generated certificate: " + https);
    }

    @Test
    @Order(2)
    void definingAVmWithDefineSystemAndMofEmbeddedInstances() throws Exception {
        String out = Wbemcli.ok("cm", service("Ferry_VirtualSystemManagementService", "host1", "Management Service"),
                "DefineSystem.SystemSettings=\"instance of Ferry_VirtualSystemSettingData { ElementName = \"web\"; "
                        + "Workload = \"pagewalk rate=8\"; };\",ResourceSettings=\"instance of Ferry_MemoryAllocationSettingData { "
                        + "ResourceType = 4; VirtualQuantity = 64; AllocationUnits = \"byte*2^20\"; };\"");
        assertTrue(out.contains("DefineSystem: 0") && out.contains("Name=\"web\""), out);
        // a second RASD cannot go in the same call (wbemcli splits array elements that contain '='); wbemcli changes the
        // processor RASD with mi (it cannot print ModifyResourceSettings' VALUE.REFARRAY result)
        Wbemcli.ok("mi", v("Ferry_ProcessorAllocationSettingData.InstanceID=\"Ferry:web/proc\""), "VirtualQuantity=2");
        OrchestratorProtocol.VmView vm = view("web");
        assertEquals("host1", vm.host());
        assertEquals(2, vm.spec().vcpus());
        assertEquals(64L << 20, vm.spec().memoryBytes());
        assertEquals("pagewalk", vm.spec().workload().program());
        assertEquals(VmStatus.DEFINED, vm.info().status());
        String gi = Wbemcli.ok("gi", cs("web"));
        assertTrue(gi.contains("EnabledState=3") && gi.contains("HostName=\"host1\"") && gi.contains("UUID=\"" + vm.spec().id() + "\""), gi);
    }

    @Test
    @Order(3)
    void modifyingSettingsWithMi() throws Exception {
        Wbemcli.ok("mi", v("Ferry_VirtualSystemSettingData.InstanceID=\"Ferry:web\""), "AutomaticRecoveryAction=3");
        assertEquals(VmSpec.HaPolicy.RESTART, view("web").spec().ha());
        String vssd = Wbemcli.ok("gi", v("Ferry_VirtualSystemSettingData.InstanceID=\"Ferry:web\""));
        assertTrue(vssd.contains("AutomaticRecoveryAction=3"), vssd);
    }

    @Test
    @Order(4)
    void startPauseAndStopWithRequestStateChange() throws Exception {
        Wbemcli.Result pauseStopped = Wbemcli.run("cm", cs("web"), "RequestStateChange.RequestedState=9");
        assertEquals(16, pauseStopped.exit());
        assertTrue(pauseStopped.err().contains("CIM_ERR_FAILED") && pauseStopped.err().contains("Domain not running"), pauseStopped.err());
        assertTrue(Wbemcli.ok("cm", cs("web"), "RequestStateChange.RequestedState=2").contains("RequestStateChange: 0"));
        assertEquals(VmStatus.RUNNING, view("web").info().status());
        String gi = Wbemcli.ok("gi", cs("web"));
        assertTrue(gi.contains("EnabledState=2") && gi.contains("RequestedState=2"), gi);
        Wbemcli.ok("cm", cs("web"), "RequestStateChange.RequestedState=9");
        assertEquals(VmStatus.PAUSED, view("web").info().status());
        assertTrue(Wbemcli.ok("gi", cs("web")).contains("EnabledState=9"));
        Wbemcli.ok("cm", cs("web"), "RequestStateChange.RequestedState=2");
        assertEquals(VmStatus.RUNNING, view("web").info().status());
        api.define(VmSpec.of("spare", 1, 32L << 20, null), "host2", true).toCompletableFuture().get(30, TimeUnit.SECONDS);
        Wbemcli.ok("cm", cs("spare"), "RequestStateChange.RequestedState=3");
        assertEquals(VmStatus.STOPPED, view("spare").info().status());
    }

    @Test
    @Order(5)
    void associationsFromTheVm() {
        String devices = Wbemcli.ok("ain", "-ac", "Ferry_SystemDevice", cs("web"));
        assertTrue(devices.contains("DeviceID=\"proc0\"") && devices.contains("DeviceID=\"proc1\"") && devices.contains("DeviceID=\"mem\""),
                devices);
        String settings = Wbemcli.ok("ai", "-ac", "Ferry_SettingsDefineState", cs("web"));
        assertTrue(settings.contains("Ferry_VirtualSystemSettingData") && settings.contains("ElementName=\"web\""), settings);
        String host = Wbemcli.ok("ai", "-arc", "Ferry_HostSystem", cs("web"));
        assertTrue(host.contains("Name=\"host1\""), host);
        String refs = Wbemcli.ok("ri", "-arc", "Ferry_SystemDevice", cs("web"));
        assertEquals(3, refs.lines().filter(l -> l.contains("Ferry_SystemDevice.")).count(), refs);
        String refNames = Wbemcli.ok("rin", "-arc", "Ferry_ElementConformsToProfile", cs("web"));
        assertTrue(refNames.contains("DSP1057-VirtualSystem"), refNames);
    }

    @Test
    @Order(6)
    void subscriptionsWithCiAndDi() {
        String filter = url + "/root/interop:CIM_IndicationFilter.SystemCreationClassName=\"CIM_ComputerSystem\",SystemName=\"ferry\","
                + "CreationClassName=\"CIM_IndicationFilter\",Name=\"cli\"";
        String created = Wbemcli.ok("ci", filter, "Name=\"cli\",Query=\"SELECT * FROM CIM_InstModification\",QueryLanguage=\"WQL\"");
        assertTrue(created.contains("Name=\"cli\""), created);
        assertTrue(Wbemcli.ok("ein", url + "/root/interop:CIM_IndicationFilter").contains("Name=\"cli\""));
        Wbemcli.ok("di", filter);
        assertTrue(!Wbemcli.ok("ein", url + "/root/interop:CIM_IndicationFilter").contains("Name=\"cli\""));
        String badDestination = url + "/root/interop:CIM_ListenerDestinationCIMXML.SystemCreationClassName=\"CIM_ComputerSystem\","
                + "SystemName=\"ferry\",CreationClassName=\"CIM_ListenerDestinationCIMXML\",Name=\"meta\"";
        Wbemcli.Result ssrf = Wbemcli.run("ci", badDestination, "Name=\"meta\",Destination=\"http://169.254.169.254/latest\"");
        assertEquals(16, ssrf.exit());
        assertTrue(ssrf.err().contains("CIM_ERR_ACCESS_DENIED"), ssrf.err());
    }

    @Test
    @Order(7)
    void liveMigrationPolledToCompleted() throws Exception {
        String out = Wbemcli.ok("cm", service("Ferry_VirtualSystemMigrationService", "host1", "Migration Service"),
                "MigrateVirtualSystemToHost.DestinationHost=\"host2\",ComputerSystem=" + hostPort
                        + "/root/virtualization:Ferry_ComputerSystem.CreationClassName=\"Ferry_ComputerSystem\",Name=\"web\"");
        assertTrue(out.contains("MigrateVirtualSystemToHost: 4096"), out);
        Matcher m = Pattern.compile("Ferry_MigrationJob\\.InstanceID=\"([0-9a-f-]{36})\"").matcher(out);
        assertTrue(m.find(), out);
        String job = v("Ferry_MigrationJob.InstanceID=\"" + m.group(1) + "\"");
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(300)).until(() -> {
            String gi = Wbemcli.ok("gi", job);
            assertTrue(!gi.contains("JobState=10"), gi);
            return gi.contains("JobState=7");
        });
        String done = Wbemcli.ok("gi", job);
        assertTrue(done.contains("Status=\"Completed\"") && done.contains("PercentComplete=100"), done);
        assertEquals("host2", view("web").host(), "ClusterApi: the VM moved");
        // the REST API reports the VM running on host2 once the target's report arrived
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            HttpResponse<String> rest = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(cluster.apiUrl() + "/api/vms/web"))
                    .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, rest.statusCode());
            String body = rest.body().replace(" ", "");
            assertTrue(body.contains("\"host\":\"host2\"") && body.contains("\"status\":\"RUNNING\""), rest.body());
        });
        assertTrue(Wbemcli.ok("gi", cs("web")).contains("HostName=\"host2\""));
        String jobs = Wbemcli.ok("ein", v("Ferry_MigrationJob"));
        assertTrue(jobs.contains(m.group(1)), jobs);
    }

    @Test
    @Order(8)
    void whatAUserGetsWrong() {
        Wbemcli.Result missing = Wbemcli.run("gi", cs("no-such-vm"));
        assertEquals(16, missing.exit());
        assertTrue(missing.err().contains("CIM_ERR_NOT_FOUND") && missing.err().contains("No such instance"), missing.err());
        Wbemcli.Result badClass = Wbemcli.run("ei", v("KVM_ComputerSystem"));
        assertTrue(badClass.err().contains("CIM_ERR_INVALID_CLASS"), badClass.err());
        Wbemcli.Result badMof = Wbemcli.run("cm", service("Ferry_VirtualSystemManagementService", "host1", "Management Service"),
                "DefineSystem.SystemSettings=\"instance of what ever { dd = 3; ]\""); // no & or <: wbemcli sends them unescaped
        assertTrue(badMof.err().contains("Unable to parse embedded object"), badMof.err());
        Wbemcli.Result wrongPassword = Wbemcli.run("ein", "http://admin:nope@" + hostPort + "/root/virtualization:Ferry_HostSystem");
        assertEquals(16, wrongPassword.exit());
        assertTrue(wrongPassword.err().contains("Http Exception"), wrongPassword.err());
        Wbemcli.Result badNamespace = Wbemcli.run("ein", url + "/root/cimv2:CIM_ComputerSystem");
        assertTrue(badNamespace.err().contains("CIM_ERR_INVALID_NAMESPACE"), badNamespace.err());
        assertTrue(Wbemcli.ok("ein", v("Ferry_HostSystem")).contains("host1"), "and the server still serves");
    }
}
