package io.ferryvm.cim;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmStatus;
import io.ferryvm.core.guest.Workload;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The methods of DSP1042, DSP1057 and DSP1081 against a backend whose state the test inspects, with
 * the negative checks cimtest makes (each VM of its own, so tests do not depend on one another).
 */
class VirtualizationProfilesTest {
    @TempDir
    static Path dir;
    static TestServer server;
    static InMemoryBackend backend;
    static RawClient c;
    static final String V = "root/virtualization";

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

    static CimObjectPath vsms(String host) {
        return HostProfile.vsmsPath(host);
    }

    static CimObjectPath migrationService(String host) {
        return MigrationProfile.servicePath(host);
    }

    private static CimBackend.Vm vm(String name) {
        return backend.vm(name).orElseThrow();
    }

    private static CimInstance get(CimObjectPath p) {
        return RawClient.instance(c.call("GetInstance", V, RawClient.iparam("InstanceName", RawClient.instanceName(p))));
    }

    private static RawClient.Answer requestState(String vm, int state) {
        return c.invoke(VirtualSystemProfile.csPath(vm), "RequestStateChange", RawClient.param("RequestedState", Integer.toString(state))
                + RawClient.param("TimeoutPeriod", "00000000000100.000000:000"));
    }

    @Test
    void defineSystemTakesMofAndXmlEmbeddedInstances() {
        RawClient.Answer a = c.invoke(vsms("host2"), "DefineSystem",
                RawClient.param("SystemSettings", "instance of Ferry_VirtualSystemSettingData { ElementName = \"def1\"; "
                        + "AutomaticRecoveryAction = 3; Workload = \"pagewalk rate=8\"; Notes = {\"team=infra\"}; };")
                        + RawClient.arrayParam("ResourceSettings",
                                "instance of CIM_ResourceAllocationSettingData { ResourceType = 3; VirtualQuantity = 2; };",
                                "<INSTANCE CLASSNAME=\"Ferry_MemoryAllocationSettingData\"><PROPERTY NAME=\"VirtualQuantity\" TYPE=\"uint64\">"
                                        + "<VALUE>262144</VALUE></PROPERTY><PROPERTY NAME=\"AllocationUnits\" TYPE=\"string\"><VALUE>KiloBytes"
                                        + "</VALUE></PROPERTY></INSTANCE>",
                                "instance of Ferry_DiskAllocationSettingData { ElementName = \"root\"; HostResource = {\"/images/def1.qcow2\"};"
                                        + " VirtualQuantity = 1073741824; Format = \"qcow2\"; };",
                                "instance of Ferry_NetworkAllocationSettingData { ResourceType = 10; Connection = {\"prod\"}; "
                                        + "Address = \"52:54:00:AA:BB:CC\"; };"));
        assertEquals(0, a.returnValue());
        CimObjectPath resulting = CimXmlReader.reference(a.outParam("ResultingSystem").child("VALUE.REFERENCE"));
        assertEquals(VirtualSystemProfile.csPath("def1"), resulting);
        VmSpec s = vm("def1").spec();
        assertEquals("host2", vm("def1").host());
        assertEquals(2, s.vcpus());
        assertEquals(256L << 20, s.memoryBytes());
        assertEquals(VmSpec.HaPolicy.RESTART, s.ha());
        assertEquals(new Workload.PageWalk(0, 0, 8), s.workload());
        assertEquals("qcow2", s.disks().get(0).format());
        assertEquals("prod", s.nics().get(0).network());
        assertEquals("52:54:00:aa:bb:cc", s.nics().get(0).mac());
        assertEquals("infra", s.metadata().get("team"));
        CimInstance vssd = get(VirtualSystemProfile.vssdPath("def1"));
        assertEquals(s.id().toString(), vssd.value("VirtualSystemIdentifier"));
        assertEquals(3L, vssd.value("AutomaticRecoveryAction"));
        CimInstance mem = get(SystemSettings.rasdPath(VirtualSystemProfile.memRasdId("def1")));
        assertEquals(256L, mem.value("VirtualQuantity"));
        assertEquals("byte*2^20", mem.value("AllocationUnits"));

        RawClient.Answer copy = c.invoke(vsms("host1"), "DefineSystem",
                RawClient.param("SystemSettings", "instance of CIM_VirtualSystemSettingData { ElementName = \"def1-copy\"; };")
                        + RawClient.refParam("ReferenceConfiguration", VirtualSystemProfile.vssdPath("def1")));
        assertEquals(0, copy.returnValue());
        VmSpec copied = vm("def1-copy").spec();
        assertEquals(s.disks(), copied.disks(), "a reference configuration passes its devices on");
        assertFalse(copied.id().equals(s.id()));
    }

    @Test
    void defineSystemRefusals() {
        RawClient.Answer garbage = c.invoke(vsms("host1"), "DefineSystem", RawClient.param("SystemSettings",
                "instance of what ever { dd = 3; //\\ ]&"));
        assertEquals(1, garbage.code());
        assertTrue(garbage.description().contains("Unable to parse embedded object"), garbage.description());
        RawClient.Answer wrongClass = c.invoke(vsms("host1"), "DefineSystem", RawClient.param("SystemSettings",
                "instance of Ferry_ProcessorAllocationSettingData { VirtualQuantity = 1; };"));
        assertTrue(wrongClass.description().contains("is not a CIM_VirtualSystemSettingData"), wrongClass.description());
        assertEquals(4, c.invoke(vsms("host1"), "DefineSystem", RawClient.param("SystemSettings",
                "instance of Ferry_VirtualSystemSettingData { ElementName = \"bad name!\"; };")).code());
        assertEquals(4, c.invoke(vsms("host1"), "DefineSystem", RawClient.param("SystemSettings",
                "instance of Ferry_VirtualSystemSettingData { ElementName = \"gpu\"; };") + RawClient.arrayParam("ResourceSettings",
                "instance of CIM_ResourceAllocationSettingData { ResourceType = 24; };")).code(), "graphics are not supported");
        backend.define(VmSpec.of("taken", 1, 64L << 20, null), "host1");
        assertEquals(11, c.invoke(vsms("host1"), "DefineSystem", RawClient.param("SystemSettings",
                "instance of Ferry_VirtualSystemSettingData { ElementName = \"taken\"; };")).code());
        assertEquals(4, c.invoke(vsms("host1"), "DefineSystem", RawClient.param("Bogus", "1")).code());
        assertEquals(17, c.invoke(vsms("host1"), "NoSuchMethod", "").code());
    }

    @Test
    void requestStateChangeFollowsTheCimStateModel() {
        backend.define(VmSpec.of("st", 1, 64L << 20, null), "host1");
        CimObjectPath p = VirtualSystemProfile.csPath("st");
        assertEquals(3L, get(p).value("EnabledState"));
        RawClient.Answer pauseDefined = requestState("st", 9);
        assertEquals(1, pauseDefined.code(), "cimtest 27_define_pause_errs: a defined VM cannot pause");
        assertTrue(pauseDefined.description().contains("Domain not running"), pauseDefined.description());
        assertEquals(0, requestState("st", 2).returnValue());
        assertEquals(VmStatus.RUNNING, vm("st").status());
        CimInstance running = get(p);
        assertEquals(2L, running.value("EnabledState"));
        assertEquals(2L, running.value("RequestedState"), "cimtest 06: EnabledState = RequestedState = 2");
        assertEquals(0, requestState("st", 9).returnValue());
        CimInstance paused = get(p);
        assertEquals(9L, paused.value("EnabledState"));
        assertEquals(9L, paused.value("RequestedState"));
        assertEquals(0, requestState("st", 2).returnValue(), "enabling a paused VM resumes it");
        assertEquals(VmStatus.RUNNING, vm("st").status());
        assertEquals(0, requestState("st", 10).returnValue(), "reboot");
        assertEquals(VmStatus.RUNNING, vm("st").status());
        assertEquals(0, requestState("st", 3).returnValue());
        assertEquals(VmStatus.STOPPED, vm("st").status());
        assertEquals(0, requestState("st", 3).returnValue(), "asking for the current state changes nothing");
        backend.changeState("st", CimBackend.StateChange.START);
        assertEquals(12L, get(p).value("RequestedState"), "started by another client: no request explains the state");
        assertEquals(7, requestState("st", 6).code(), "Offline is not supported");
        assertEquals(4, requestState("st", 99).code());
        assertEquals(4, c.invoke(p, "RequestStateChange", "").code(), "RequestedState is required");
        assertEquals(4, c.invoke(p, "RequestStateChange", RawClient.param("RequestedState", "two")).code());
        assertEquals(6, requestState("ghost", 2).code());
    }

    @Test
    void settingsOfAStoppedVmChange() {
        backend.define(VmSpec.of("mod", 1, 64L << 20, null), "host1");
        assertEquals(0, c.invoke(vsms("host1"), "ModifyResourceSettings", RawClient.arrayParam("ResourceSettings",
                "instance of Ferry_ProcessorAllocationSettingData { InstanceID = \"Ferry:mod/proc\"; VirtualQuantity = 4; };")).returnValue());
        assertEquals(4, vm("mod").spec().vcpus());
        RawClient.Answer add = c.invoke(vsms("host1"), "AddResourceSettings", RawClient.refParam("AffectedConfiguration",
                VirtualSystemProfile.vssdPath("mod")) + RawClient.arrayParam("ResourceSettings",
                "instance of Ferry_DiskAllocationSettingData { ElementName = \"data\"; HostResource = {\"/d.raw\"}; };"));
        assertEquals(0, add.returnValue());
        assertEquals(1, vm("mod").spec().disks().size());
        assertEquals(0, c.invoke(vsms("host1"), "ModifySystemSettings", RawClient.param("SystemSettings",
                "instance of Ferry_VirtualSystemSettingData { InstanceID = \"Ferry:mod\"; GuestOS = \"linux\"; CpuPolicy = 1; };"))
                .returnValue());
        assertEquals("linux", vm("mod").spec().osType());
        assertEquals(4, c.invoke(vsms("host1"), "ModifySystemSettings", RawClient.param("SystemSettings",
                "instance of Ferry_VirtualSystemSettingData { InstanceID = \"Ferry:mod\"; ElementName = \"renamed\"; };")).code());
        // ModifyInstance, as wbemcli mi sends it: the whole instance, one property changed
        CimObjectPath memPath = SystemSettings.rasdPath(VirtualSystemProfile.memRasdId("mod"));
        CimInstance mem = get(memPath);
        StringBuilder inst = new StringBuilder("<VALUE.NAMEDINSTANCE>").append(RawClient.instanceName(memPath));
        new CimXmlWriter(inst, "x").instance(new CimInstance(mem.className(), null, mem.properties().stream()
                .map(pr -> pr.name().equals("VirtualQuantity") ? pr.withValue(128L) : pr).toList()), false);
        inst.append("</VALUE.NAMEDINSTANCE>");
        assertEquals(0, c.call("ModifyInstance", V, RawClient.iparam("ModifiedInstance", inst.toString())).code());
        assertEquals(128L << 20, vm("mod").spec().memoryBytes());
        assertEquals(0, c.invoke(vsms("host1"), "RemoveResourceSettings", "<PARAMVALUE NAME=\"ResourceSettings\"><VALUE.REFARRAY>"
                + refValue(SystemSettings.rasdPath(VirtualSystemProfile.diskRasdId("mod", "data"))) + "</VALUE.REFARRAY></PARAMVALUE>")
                .returnValue());
        assertTrue(vm("mod").spec().disks().isEmpty());
        backend.changeState("mod", CimBackend.StateChange.START);
        RawClient.Answer running = c.invoke(vsms("host1"), "ModifyResourceSettings", RawClient.arrayParam("ResourceSettings",
                "instance of Ferry_ProcessorAllocationSettingData { InstanceID = \"Ferry:mod/proc\"; VirtualQuantity = 2; };"));
        assertEquals(1, running.code(), "a running VM keeps its definition");
        assertTrue(running.description().contains("stop it"), running.description());
        RawClient.Answer same = c.invoke(vsms("host1"), "ModifyResourceSettings", RawClient.arrayParam("ResourceSettings",
                "instance of Ferry_ProcessorAllocationSettingData { InstanceID = \"Ferry:mod/proc\"; VirtualQuantity = 4; };"));
        assertEquals(0, same.returnValue(), "a change to what it already is succeeds on a running VM");
        RawClient.Answer bad = c.invoke(vsms("host1"), "AddResourceSettings", RawClient.refParam("AffectedConfiguration",
                VirtualSystemProfile.vssdPath("mod")) + RawClient.arrayParam("ResourceSettings", "instance of what ever { dd = 3; //\\ ]&"));
        assertEquals(1, bad.code(), "cimtest 07_addresource_neg");
        assertTrue(bad.description().contains("Unable to parse embedded object"));
    }

    private static String refValue(CimObjectPath p) {
        StringBuilder b = new StringBuilder();
        new CimXmlWriter(b, "x").valueReference(p);
        return b.toString();
    }

    @Test
    void destroySystemAndItsNegativeChecks() {
        backend.define(VmSpec.of("gone", 1, 64L << 20, null), "host2");
        backend.changeState("gone", CimBackend.StateChange.START);
        CimObjectPath noName = CimObjectPath.builder(V, "Ferry_ComputerSystem").key("CreationClassName", "Ferry_ComputerSystem").build();
        RawClient.Answer a = c.invoke(vsms("host2"), "DestroySystem", RawClient.refParam("AffectedSystem", noName));
        assertEquals(6, a.code());
        assertTrue(a.description().contains("Unable to retrieve domain name"), a.description());
        RawClient.Answer b = c.invoke(vsms("host2"), "DestroySystem", RawClient.refParam("AffectedSystem", VirtualSystemProfile.csPath("never")));
        assertEquals(6, b.code());
        assertTrue(b.description().contains("Failed to find domain"), b.description());
        assertEquals(0, c.invoke(vsms("host2"), "DestroySystem", RawClient.refParam("AffectedSystem", VirtualSystemProfile.csPath("gone")))
                .returnValue());
        assertTrue(backend.vm("gone").isEmpty());
    }

    private static UUID job(RawClient.Answer a) {
        assertEquals(4096, a.returnValue());
        CimObjectPath j = CimXmlReader.reference(a.outParam("Job").child("VALUE.REFERENCE"));
        assertEquals("Ferry_MigrationJob", j.className());
        return UUID.fromString(j.keyString("InstanceID"));
    }

    private static CimInstance jobInstance(UUID id) {
        return get(MigrationProfile.jobPath(id));
    }

    private static RawClient.Answer migrate(String vm, String host, String settings) {
        return c.invoke(migrationService("host1"), "MigrateVirtualSystemToHost", RawClient.refParam("ComputerSystem",
                VirtualSystemProfile.csPath(vm)) + RawClient.param("DestinationHost", host)
                + (settings == null ? "" : RawClient.param("MigrationSettingData", settings)));
    }

    @Test
    void liveMigrationJobsFollowTheClustersMigration() {
        backend.define(VmSpec.of("mig", 1, 64L << 20, null), "host1");
        backend.changeState("mig", CimBackend.StateChange.START);
        RawClient.Answer check = c.invoke(migrationService("host1"), "CheckVirtualSystemIsMigratableToHost", RawClient.refParam(
                "ComputerSystem", VirtualSystemProfile.csPath("mig")) + RawClient.param("DestinationHost", "host2"));
        assertEquals(0, check.returnValue());
        assertEquals("TRUE", check.outParam("IsMigratable").child("VALUE").text());
        UUID id = job(migrate("mig", "host2", "instance of CIM_VirtualSystemMigrationSettingData { MigrationType = 2; TransportType = 5; };"));
        CimInstance j = jobInstance(id);
        assertEquals(4L, j.value("JobState"));
        assertEquals("mig", j.value("VirtualSystem"));
        assertEquals("host2", j.value("DestinationHost"));
        backend.progress(id, 40);
        await().atMost(Duration.ofSeconds(10)).until(() -> Long.valueOf(40).equals(jobInstance(id).value("PercentComplete")));
        RawClient.Answer again = migrate("mig", "host2", null);
        assertEquals(1, again.code());
        assertTrue(again.description().contains("already migrating"), again.description());
        backend.finish(id, true);
        await().atMost(Duration.ofSeconds(10)).until(() -> Long.valueOf(7).equals(jobInstance(id).value("JobState")));
        CimInstance done = jobInstance(id);
        assertEquals("Completed", done.value("Status"), "cimtest checks Status");
        assertEquals(100L, done.value("PercentComplete"));
        assertEquals("host2", vm("mig").host());
        assertEquals(List.of(VirtualSystemProfile.csPath("mig")), RawClient.objectPaths(c.call("AssociatorNames", V, RawClient.iparam(
                "ObjectName", RawClient.instanceName(MigrationProfile.jobPath(id))) + RawClient.className("AssocClass", "CIM_AffectedJobElement"))));
        assertEquals(0, c.call("DeleteInstance", V, RawClient.iparam("InstanceName", RawClient.instanceName(MigrationProfile.jobPath(id)))).code());
        assertEquals(6, c.call("GetInstance", V, RawClient.iparam("InstanceName", RawClient.instanceName(MigrationProfile.jobPath(id)))).code());
    }

    @Test
    void terminatedAndFailedJobsSayWhy() {
        backend.define(VmSpec.of("cancel", 1, 64L << 20, null), "host1");
        backend.changeState("cancel", CimBackend.StateChange.START);
        UUID id = job(migrate("cancel", "host2", null));
        RawClient.Answer running = c.call("DeleteInstance", V, RawClient.iparam("InstanceName", RawClient.instanceName(MigrationProfile.jobPath(id))));
        assertEquals(1, running.code(), "a running job cannot be deleted");
        assertEquals(0, c.invoke(MigrationProfile.jobPath(id), "RequestStateChange", RawClient.param("RequestedState", "4")).returnValue());
        await().atMost(Duration.ofSeconds(10)).until(() -> Long.valueOf(8).equals(jobInstance(id).value("JobState")));
        assertEquals("host1", vm("cancel").host());
        RawClient.Answer err = c.invoke(MigrationProfile.jobPath(id), "GetError", "");
        assertEquals(0, err.returnValue());
        CimInstance error = CimXmlReader.instance(XmlTreeOf.parse(err.outParam("Error").child("VALUE").text()));
        assertEquals("CIM_Error", error.className());
        assertTrue(error.string("Message").contains("refused"), error.string("Message"));
        assertEquals(4097, c.invoke(MigrationProfile.jobPath(id), "RequestStateChange", RawClient.param("RequestedState", "4")).returnValue());
    }

    @Test
    void resumeMigrationsPauseMoveAndResume() {
        backend.define(VmSpec.of("res", 1, 64L << 20, null), "host1");
        backend.changeState("res", CimBackend.StateChange.START);
        UUID id = job(migrate("res", "host2", "instance of Ferry_VirtualSystemMigrationSettingData { MigrationType = 3; };"));
        assertEquals(VmStatus.PAUSED, vm("res").status(), "paused before it moves");
        backend.finish(id, true);
        await().atMost(Duration.ofSeconds(10)).until(() -> Long.valueOf(7).equals(jobInstance(id).value("JobState")));
        assertEquals(VmStatus.RUNNING, vm("res").status());
        assertEquals("host2", vm("res").host());
        assertEquals(3L, jobInstance(id).value("MigrationType"));
    }

    @Test
    void restartMigrationsMoveStoppedVms() {
        backend.define(VmSpec.of("cold", 1, 64L << 20, null), "host1");
        RawClient.Answer live = migrate("cold", "host2", null);
        assertEquals(1, live.code(), "a stopped VM cannot be live-migrated");
        assertTrue(live.description().contains("only a running or paused VM"), live.description());
        UUID id = job(migrate("cold", "host2", "instance of CIM_VirtualSystemMigrationSettingData { MigrationType = 4; };"));
        await().atMost(Duration.ofSeconds(10)).until(() -> Long.valueOf(7).equals(jobInstance(id).value("JobState")));
        assertEquals("host2", vm("cold").host());
        assertEquals(VmStatus.DEFINED, vm("cold").status());
    }

    @Test
    void migrationToASystemTakesAHostReference() {
        backend.define(VmSpec.of("tosys", 1, 64L << 20, null), "host1");
        backend.changeState("tosys", CimBackend.StateChange.START);
        String args = RawClient.refParam("ComputerSystem", VirtualSystemProfile.csPath("tosys"))
                + RawClient.refParam("DestinationSystem", HostProfile.hostPath("host2"));
        RawClient.Answer check = c.invoke(migrationService("host1"), "CheckVirtualSystemIsMigratableToSystem", args);
        assertEquals("TRUE", check.outParam("IsMigratable").child("VALUE").text());
        RawClient.Answer a = c.invoke(migrationService("host1"), "MigrateVirtualSystemToSystem", args);
        UUID id = job(a);
        assertEquals(VirtualSystemProfile.csPath("tosys"), CimXmlReader.reference(a.outParam("NewComputerSystem").child("VALUE.REFERENCE")));
        backend.finish(id, true);
        await().atMost(Duration.ofSeconds(10)).until(() -> Long.valueOf(7).equals(jobInstance(id).value("JobState")));
        assertEquals("host2", vm("tosys").host());
        assertEquals(4, c.invoke(migrationService("host1"), "MigrateVirtualSystemToSystem", RawClient.refParam("ComputerSystem",
                VirtualSystemProfile.csPath("tosys")) + RawClient.refParam("DestinationSystem", HostProfile.hostPath("host9"))).code());
    }

    @Test
    void migrationRefusalsCimtestChecks() {
        CimObjectPath wrongKey = CimObjectPath.builder(V, "Ferry_ComputerSystem").key("CreationClassName", "Ferry_ComputerSystem").build();
        RawClient.Answer a = c.invoke(migrationService("host1"), "MigrateVirtualSystemToHost", RawClient.refParam("ComputerSystem", wrongKey)
                + RawClient.param("DestinationHost", "host2"));
        assertEquals(1, a.code());
        assertTrue(a.description().contains("Missing key (Name) in ComputerSystem"), a.description());
        backend.define(VmSpec.of("ref", 1, 64L << 20, null), "host1");
        backend.changeState("ref", CimBackend.StateChange.START);
        assertEquals(4, migrate("ref", "nowhere", null).code());
        assertEquals(4, migrate("ref", "host2", "instance of CIM_VirtualSystemMigrationSettingData { MigrationType = 1; };").code());
        assertEquals(4, migrate("ref", "host2", "instance of CIM_VirtualSystemMigrationSettingData { TransportType = 2; };").code());
        assertEquals(1, migrate("ref", "host2", "instance of X { };").code());
        assertEquals(6, migrate("ghost", "host2", null).code());
        RawClient.Answer check = c.invoke(migrationService("host1"), "CheckVirtualSystemIsMigratableToHost", RawClient.refParam(
                "ComputerSystem", VirtualSystemProfile.csPath("ref")) + RawClient.param("DestinationHost", "host1"));
        assertEquals("FALSE", check.outParam("IsMigratable").child("VALUE").text(), "it is there already");
        CimInstance msd = RawClient.namedInstances(c.call("EnumerateInstances", V, RawClient.className("ClassName",
                "CIM_VirtualSystemMigrationSettingData"))).get(0);
        assertEquals("MigrationSettingData", msd.value("InstanceID"));
        assertEquals(2L, msd.value("MigrationType"));
        assertEquals(0L, msd.value("Priority"));
        assertEquals("MigrationCapabilities", RawClient.namedInstances(c.call("EnumerateInstances", V, RawClient.className("ClassName",
                "CIM_VirtualSystemMigrationCapabilities"))).get(0).value("InstanceID"));
    }

    /** Parses embedded CIM-XML text the way the provider does. */
    static final class XmlTreeOf {
        static XmlTree.Node parse(String text) {
            try {
                return XmlTree.parse(text, XmlTree.Limits.DEFAULT);
            } catch (XmlTree.MalformedXml e) {
                throw new AssertionError(e);
            }
        }
    }
}
