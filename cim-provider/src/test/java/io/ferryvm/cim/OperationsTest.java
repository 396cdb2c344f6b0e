package io.ferryvm.cim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.DiskSpec;
import io.ferryvm.core.NicSpec;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.guest.Workload;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The intrinsic operations' semantics (DSP0200): classes, instances, associations, queries and pulls. */
class OperationsTest {
    @TempDir
    static Path dir;
    static TestServer server;
    static RawClient c;
    static final String V = "root/virtualization";
    static final String I = "root/interop";

    @BeforeAll
    static void start() {
        InMemoryBackend b = new InMemoryBackend("host1", "host2");
        server = new TestServer(dir, b);
        c = RawClient.admin(server);
        VmSpec web = VmSpec.of("web", 2, 256L << 20, new Workload.Idle()).withDevices(
                List.of(new DiskSpec("root", "/images/web.raw", 1L << 30, "raw", "virtio", false)),
                List.of(new NicSpec("eth0", "default", "52:54:00:12:34:56", "virtio")));
        b.define(web, "host1");
        b.changeState("web", CimBackend.StateChange.START);
        b.define(VmSpec.of("db", 1, 128L << 20, new Workload.Idle()), "host2");
        for (int i = 0; i < 30; i++) {
            b.define(VmSpec.of("bulk" + i, 1, 64L << 20, new Workload.Idle()), "host2");
        }
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static XmlTree.Node onlyClass(RawClient.Answer a) {
        List<XmlTree.Node> r = a.returned();
        assertEquals(1, r.size());
        return r.get(0);
    }

    @Test
    void getClassCarriesMethodsParametersAndQualifiers() {
        XmlTree.Node cls = onlyClass(c.call("GetClass", V, RawClient.className("ClassName", "Ferry_VirtualSystemManagementService")
                + RawClient.value("LocalOnly", "FALSE") + RawClient.value("IncludeClassOrigin", "TRUE")));
        assertEquals("CIM_VirtualSystemManagementService", cls.attr("SUPERCLASS"));
        XmlTree.Node define = cls.children("METHOD").stream().filter(m -> m.attr("NAME").equals("DefineSystem")).findFirst().orElseThrow();
        assertEquals("uint32", define.attr("TYPE"));
        assertEquals("CIM_VirtualSystemManagementService", define.attr("CLASSORIGIN"));
        XmlTree.Node settings = define.children("PARAMETER.ARRAY").get(0);
        assertEquals("ResourceSettings", settings.attr("NAME"));
        assertTrue(settings.children("QUALIFIER").stream().anyMatch(q -> q.attr("NAME").equals("EmbeddedInstance")));
        XmlTree.Node job = define.children("PARAMETER.REFERENCE").stream().filter(p -> p.attr("NAME").equals("Job")).findFirst().orElseThrow();
        assertEquals("CIM_ConcreteJob", job.attr("REFERENCECLASS"));
        assertTrue(job.children("QUALIFIER").stream().anyMatch(q -> q.attr("NAME").equals("Out")));
        XmlTree.Node local = onlyClass(c.call("GetClass", V, RawClient.className("ClassName", "Ferry_ComputerSystem")));
        assertEquals(List.of("UUID", "HostName"), local.children("PROPERTY").stream().map(p -> p.attr("NAME")).toList(),
                "LocalOnly is TRUE by default for GetClass");
        XmlTree.Node listed = onlyClass(c.call("GetClass", V, RawClient.className("ClassName", "Ferry_ComputerSystem")
                + RawClient.value("LocalOnly", "FALSE") + RawClient.value("IncludeQualifiers", "FALSE")
                + RawClient.iparam("PropertyList", "<VALUE.ARRAY><VALUE>name</VALUE><VALUE>EnabledState</VALUE></VALUE.ARRAY>")));
        assertEquals(List.of("EnabledState"), listed.children("PROPERTY").stream().filter(p -> p.attr("NAME").equals("EnabledState"))
                .map(p -> p.attr("NAME")).toList());
        assertEquals(2, listed.children("PROPERTY").size());
        assertTrue(listed.children("PROPERTY").get(0).children("QUALIFIER").isEmpty());
        assertEquals(5, c.call("GetClass", V, RawClient.className("ClassName", "Ferry_Nothing")).code());
    }

    @Test
    void classEnumerationsWalkTheHierarchy() {
        Set<String> direct = names(c.call("EnumerateClassNames", V, RawClient.className("ClassName", "CIM_ComputerSystem")));
        assertEquals(Set.of("Ferry_HostSystem", "Ferry_ComputerSystem"), direct);
        Set<String> deep = names(c.call("EnumerateClassNames", V, RawClient.className("ClassName", "CIM_LogicalDevice")
                + RawClient.value("DeepInheritance", "TRUE")));
        assertTrue(deep.containsAll(Set.of("CIM_Processor", "Ferry_Processor", "CIM_Memory", "Ferry_NetworkPort")), deep.toString());
        assertEquals(2, c.call("EnumerateClasses", V, RawClient.className("ClassName", "CIM_StorageExtent")).returned().size(),
                "CIM_Memory and CIM_LogicalDisk: their subclasses only with DeepInheritance");
    }

    private static Set<String> names(RawClient.Answer a) {
        Set<String> out = new HashSet<>();
        for (XmlTree.Node n : a.returned()) {
            out.add(n.attr("NAME"));
        }
        return out;
    }

    @Test
    void enumerationHonoursDeepInheritancePropertyListAndClassOrigin() {
        List<CimInstance> deep = RawClient.namedInstances(c.call("EnumerateInstances", V, RawClient.className("ClassName", "CIM_ComputerSystem")));
        assertEquals(34, deep.size(), "2 hosts and 32 VMs");
        CimInstance anyVm = deep.stream().filter(i -> i.className().equals("Ferry_ComputerSystem")).findFirst().orElseThrow();
        assertNotNull(anyVm.value("UUID"));
        List<CimInstance> shallow = RawClient.namedInstances(c.call("EnumerateInstances", V, RawClient.className("ClassName",
                "CIM_ComputerSystem") + RawClient.value("DeepInheritance", "FALSE")));
        CimInstance vm = shallow.stream().filter(i -> i.className().equals("Ferry_ComputerSystem")).findFirst().orElseThrow();
        assertFalse(vm.has("UUID"), "DeepInheritance false: only CIM_ComputerSystem's properties");
        assertTrue(vm.has("EnabledState"));
        List<CimInstance> listed = RawClient.namedInstances(c.call("EnumerateInstances", V, RawClient.className("ClassName", "Ferry_ComputerSystem")
                + RawClient.iparam("PropertyList", "<VALUE.ARRAY><VALUE>EnabledState</VALUE></VALUE.ARRAY>")));
        assertEquals(32, listed.size());
        assertEquals(1, listed.get(0).properties().size());
        assertEquals("web", listed.stream().filter(i -> Long.valueOf(2).equals(i.value("EnabledState"))).findFirst().orElseThrow()
                .path().key("Name"), "paths keep their keys whatever the PropertyList");
        List<CimInstance> local = RawClient.namedInstances(c.call("EnumerateInstances", V, RawClient.className("ClassName", "Ferry_ComputerSystem")
                + RawClient.value("LocalOnly", "TRUE") + RawClient.value("DeepInheritance", "FALSE")));
        assertEquals(Set.of("uuid", "hostname"), local.get(0).propertyNamesLower());
        String withOrigin = c.call("EnumerateInstances", V, RawClient.className("ClassName", "Ferry_HostSystem")
                + RawClient.value("IncludeClassOrigin", "TRUE")).body();
        assertTrue(withOrigin.contains("CLASSORIGIN=\"CIM_ManagedElement\""));
        assertFalse(c.call("EnumerateInstances", V, RawClient.className("ClassName", "Ferry_HostSystem")).body().contains("CLASSORIGIN"));
    }

    @Test
    void getInstanceNeedsExactlyTheKeys() {
        CimObjectPath web = VirtualSystemProfile.csPath("web");
        CimInstance i = RawClient.instance(c.call("GetInstance", V, RawClient.iparam("InstanceName", RawClient.instanceName(web))));
        assertEquals("web", i.value("Name"));
        assertEquals(2L, i.value("EnabledState"));
        for (CimObjectPath bad : List.of(
                CimObjectPath.builder(V, "Ferry_ComputerSystem").key("CreationClassName", "Ferry_ComputerSystem").key("Name", "invalid_name").build(),
                CimObjectPath.builder(V, "Ferry_ComputerSystem").key("CreationClassName", "Wrong").key("Name", "web").build(),
                CimObjectPath.builder(V, "Ferry_ComputerSystem").key("Name", "web").build(),
                CimObjectPath.builder(V, "Ferry_ComputerSystem").key("CreationClassName", "Ferry_ComputerSystem").key("Name", "web")
                        .key("Extra", "1").build())) {
            RawClient.Answer a = c.call("GetInstance", V, RawClient.iparam("InstanceName", RawClient.instanceName(bad)));
            assertEquals(6, a.code(), bad.toString());
            assertTrue(a.description().contains("No such instance"), a.description());
        }
        CimObjectPath viaBase = CimObjectPath.builder(V, "CIM_ComputerSystem").key("CreationClassName", "Ferry_ComputerSystem")
                .key("Name", "web").build();
        assertEquals("Ferry_ComputerSystem", RawClient.instance(c.call("GetInstance", V, RawClient.iparam("InstanceName",
                RawClient.instanceName(viaBase)))).className(), "a base class path finds the subclass instance");
    }

    @Test
    void associationsFollowRolesAndResultClasses() {
        CimObjectPath web = VirtualSystemProfile.csPath("web");
        List<CimInstance> devices = RawClient.objectsWithPath(c.call("Associators", V, RawClient.iparam("ObjectName", RawClient.instanceName(web))
                + RawClient.className("AssocClass", "CIM_SystemDevice")));
        assertEquals(Set.of("proc0", "proc1", "mem", "disk/root", "nic/eth0"),
                devices.stream().map(d -> d.string("DeviceID")).collect(java.util.stream.Collectors.toSet()));
        List<CimInstance> processors = RawClient.objectsWithPath(c.call("Associators", V, RawClient.iparam("ObjectName",
                RawClient.instanceName(web)) + RawClient.className("ResultClass", "CIM_Processor")));
        assertEquals(2, processors.size());
        assertTrue(c.call("Associators", V, RawClient.iparam("ObjectName", RawClient.instanceName(web))
                + RawClient.className("AssocClass", "CIM_SystemDevice") + RawClient.value("Role", "PartComponent")).returned().isEmpty(),
                "the VM is the GroupComponent of SystemDevice");
        List<CimObjectPath> host = RawClient.objectPaths(c.call("AssociatorNames", V, RawClient.iparam("ObjectName", RawClient.instanceName(web))
                + RawClient.className("AssocClass", "CIM_HostedDependency") + RawClient.value("ResultRole", "Antecedent")));
        assertEquals(List.of(HostProfile.hostPath("host1")), host);
        List<CimInstance> refs = RawClient.objectsWithPath(c.call("References", V, RawClient.iparam("ObjectName", RawClient.instanceName(web))
                + RawClient.className("ResultClass", "CIM_SettingsDefineState")));
        assertEquals(1, refs.size());
        assertEquals(VirtualSystemProfile.vssdPath("web"), refs.get(0).value("SettingData"));
        // the VM's processors RASD comes from host1's processor pool, its vCPU 0 from NUMA node 0's
        CimObjectPath rasd = SystemSettings.rasdPath(VirtualSystemProfile.procRasdId("web"));
        assertEquals(List.of(HostProfile.poolPath("host1", "Processor")), RawClient.objectPaths(c.call("AssociatorNames", V,
                RawClient.iparam("ObjectName", RawClient.instanceName(rasd)) + RawClient.className("AssocClass", "CIM_ResourceAllocationFromPool"))));
        CimObjectPath proc0 = devices.stream().filter(d -> d.string("DeviceID").equals("proc0")).findFirst().orElseThrow().path();
        assertEquals(List.of(HostProfile.poolPath("host1", "Processor/node0")), RawClient.objectPaths(c.call("AssociatorNames", V,
                RawClient.iparam("ObjectName", RawClient.instanceName(proc0)) + RawClient.className("AssocClass", "CIM_ElementAllocatedFromPool"))));
        RawClient.Answer missing = c.call("Associators", V, RawClient.iparam("ObjectName", RawClient.instanceName(VirtualSystemProfile.csPath("nope"))));
        assertEquals(6, missing.code());
    }

    @Test
    void classLevelAssociationsNameClasses() {
        List<XmlTree.Node> r = c.call("AssociatorNames", V, RawClient.className("ObjectName", "Ferry_ComputerSystem")
                + RawClient.className("AssocClass", "CIM_SystemDevice")).returned();
        assertTrue(r.stream().anyMatch(n -> n.child("CLASSPATH").child("CLASSNAME").attr("NAME").equals("CIM_LogicalDevice")));
        List<XmlTree.Node> refs = c.call("ReferenceNames", V, RawClient.className("ObjectName", "Ferry_Processor")).returned();
        assertTrue(refs.stream().anyMatch(n -> n.child("CLASSPATH").child("CLASSNAME").attr("NAME").equals("Ferry_SystemDevice")));
    }

    @Test
    void profilesConformAcrossNamespaces() {
        CimObjectPath sv = ProfileRegistration.profilePath("CIM:DSP1042-SystemVirtualization-1.0.0");
        CimInstance p = RawClient.instance(c.call("GetInstance", I, RawClient.iparam("InstanceName", RawClient.instanceName(sv))));
        assertEquals("System Virtualization", p.value("RegisteredName"));
        assertEquals(2L, p.value("RegisteredOrganization"));
        List<CimObjectPath> hosts = RawClient.objectPaths(c.call("AssociatorNames", I, RawClient.iparam("ObjectName", RawClient.instanceName(sv))
                + RawClient.className("AssocClass", "CIM_ElementConformsToProfile")));
        assertEquals(Set.of(HostProfile.hostPath("host1"), HostProfile.hostPath("host2")), new HashSet<>(hosts));
        assertTrue(hosts.stream().allMatch(h -> V.equals(h.namespace())), "the conformant elements live in root/virtualization");
        List<CimObjectPath> back = RawClient.objectPaths(c.call("AssociatorNames", V, RawClient.iparam("ObjectName",
                RawClient.instanceName(VirtualSystemProfile.csPath("db"))) + RawClient.className("AssocClass", "CIM_ElementConformsToProfile")));
        assertEquals(List.of(ProfileRegistration.profilePath("CIM:DSP1057-VirtualSystem-1.0.0")), back);
        List<CimObjectPath> components = RawClient.objectPaths(c.call("AssociatorNames", I, RawClient.iparam("ObjectName", RawClient.instanceName(sv))
                + RawClient.className("AssocClass", "CIM_ReferencedProfile") + RawClient.value("ResultRole", "Antecedent")));
        assertTrue(components.contains(ProfileRegistration.profilePath("CIM:DSP1081-VirtualSystemMigration-1.0.0")));
        RawClient.Answer bad = c.call("GetInstance", I, RawClient.iparam("InstanceName", RawClient.instanceName(
                ProfileRegistration.profilePath("Wrong"))));
        assertEquals(6, bad.code());
        assertTrue(bad.description().contains("No such instance"));
    }

    @Test
    void execQuerySelectsAndProjects() {
        List<CimInstance> running = RawClient.objectsWithPath(c.call("ExecQuery", V, RawClient.value("QueryLanguage", "WQL")
                + RawClient.value("Query", "SELECT Name, EnabledState FROM CIM_ComputerSystem WHERE EnabledState = 2 AND Name LIKE 'w%'")));
        assertEquals(1, running.size());
        assertEquals(Set.of("name", "enabledstate"), running.get(0).propertyNamesLower());
        assertEquals(14, c.call("ExecQuery", V, RawClient.value("QueryLanguage", "SQL") + RawClient.value("Query", "SELECT * FROM X")).code());
        assertEquals(15, c.call("ExecQuery", V, RawClient.value("QueryLanguage", "WQL") + RawClient.value("Query", "SELECT * FROM")).code());
        assertEquals(15, c.call("ExecQuery", V, RawClient.value("QueryLanguage", "WQL") + RawClient.value("Query", "SELECT * FROM No_Class")).code());
    }

    @Test
    void pullOperationsHandOutResultsInBatches() {
        RawClient.Answer open = c.call("OpenEnumerateInstances", V, RawClient.className("ClassName", "Ferry_ComputerSystem")
                + RawClient.value("MaxObjectCount", "10") + RawClient.value("OperationTimeout", "30"));
        assertEquals(10, open.returned().size());
        assertEquals("VALUE.INSTANCEWITHPATH", open.returned().get(0).name);
        assertEquals("FALSE", open.outParam("EndOfSequence").child("VALUE").text());
        String ctx = open.outParam("EnumerationContext").child("VALUE").text();
        RawClient other = new RawClient(server.http(), TestServer.READER, TestServer.PASSWORD);
        assertEquals(21, other.call("PullInstancesWithPath", V, RawClient.value("EnumerationContext", ctx)
                + RawClient.value("MaxObjectCount", "5")).code(), "a context belongs to the user who opened it");
        assertEquals(21, c.call("PullInstancePaths", V, RawClient.value("EnumerationContext", ctx)
                + RawClient.value("MaxObjectCount", "5")).code(), "nor is it pulled as another kind");
        int total = 10;
        boolean end = false;
        while (!end) {
            RawClient.Answer pull = c.call("PullInstancesWithPath", V, RawClient.value("EnumerationContext", ctx)
                    + RawClient.value("MaxObjectCount", "7"));
            total += pull.returned().size();
            end = pull.outParam("EndOfSequence").child("VALUE").text().equals("TRUE");
        }
        assertEquals(32, total);
        assertEquals(21, c.call("PullInstancesWithPath", V, RawClient.value("EnumerationContext", ctx)
                + RawClient.value("MaxObjectCount", "1")).code(), "an ended enumeration is closed");

        RawClient.Answer paths = c.call("OpenAssociatorInstancePaths", V, RawClient.iparam("InstanceName",
                RawClient.instanceName(VirtualSystemProfile.csPath("web"))) + RawClient.className("AssocClass", "CIM_SystemDevice")
                + RawClient.value("MaxObjectCount", "100"));
        assertEquals(5, paths.returned().size());
        assertEquals("INSTANCEPATH", paths.returned().get(0).name);
        assertNull(paths.outParam("EnumerationContext").child("VALUE"));

        RawClient.Answer q = c.call("OpenQueryInstances", V, RawClient.value("FilterQueryLanguage", "WQL")
                + RawClient.value("FilterQuery", "SELECT * FROM Ferry_ComputerSystem WHERE Name = 'db'") + RawClient.value("MaxObjectCount", "1"));
        assertEquals("INSTANCE", q.returned().get(0).name);

        RawClient.Answer closeMe = c.call("OpenEnumerateInstancePaths", V, RawClient.className("ClassName", "CIM_ManagedElement"));
        assertTrue(closeMe.returned().isEmpty(), "MaxObjectCount 0: nothing yet");
        String ctx2 = closeMe.outParam("EnumerationContext").child("VALUE").text();
        assertEquals(0, c.call("CloseEnumeration", V, RawClient.value("EnumerationContext", ctx2)).code());
        assertEquals(21, c.call("PullInstancePaths", V, RawClient.value("EnumerationContext", ctx2) + RawClient.value("MaxObjectCount", "1")).code());
    }

    @Test
    void pullLimitsAreEnforced() {
        assertEquals(22, c.call("OpenEnumerateInstances", V, RawClient.className("ClassName", "Ferry_HostSystem")
                + RawClient.value("OperationTimeout", "100000")).code());
        assertEquals(27, c.call("OpenEnumerateInstances", V, RawClient.className("ClassName", "Ferry_HostSystem")
                + RawClient.value("MaxObjectCount", "1000000")).code());
        assertEquals(25, c.call("OpenEnumerateInstances", V, RawClient.className("ClassName", "Ferry_HostSystem")
                + RawClient.value("FilterQueryLanguage", "DMTF:FQL") + RawClient.value("FilterQuery", "Name = 'host1'")).code());
        assertEquals(26, c.call("OpenEnumerateInstances", V, RawClient.className("ClassName", "Ferry_HostSystem")
                + RawClient.value("ContinueOnError", "TRUE")).code());
        assertEquals(21, c.call("PullInstancesWithPath", V, RawClient.value("EnumerationContext", "00")
                + RawClient.value("MaxObjectCount", "1")).code());
    }

    @Test
    void resourcePoolsComeFromTheHostsNumaInventory() {
        List<CimInstance> pools = RawClient.namedInstances(c.call("EnumerateInstances", V, RawClient.className("ClassName", "Ferry_ProcessorPool")));
        CimInstance host1 = pools.stream().filter(p -> p.value("PoolID").equals("host1/Processor")).findFirst().orElseThrow();
        assertEquals(8L, host1.value("Capacity"), "2 nodes x 2 cores x 2 threads");
        assertEquals(2L, host1.value("Reserved"), "web's 2 vCPUs run there");
        assertEquals(Boolean.TRUE, host1.value("Primordial"));
        CimInstance node0 = pools.stream().filter(p -> p.value("PoolID").equals("host1/Processor/node0")).findFirst().orElseThrow();
        assertEquals(0L, node0.value("NumaNode"));
        assertEquals(4L, node0.value("Capacity"));
        assertEquals(2L, node0.value("Reserved"), "both vCPUs are pinned on node 0");
        List<CimInstance> mem = RawClient.namedInstances(c.call("EnumerateInstances", V, RawClient.className("ClassName", "Ferry_MemoryPool")));
        CimInstance memNode0 = mem.stream().filter(p -> p.value("PoolID").equals("host1/Memory/node0")).findFirst().orElseThrow();
        assertEquals(4096L, memNode0.value("Capacity"));
        assertEquals(256L, memNode0.value("Reserved"));
        assertEquals(List.of(10L, 21L), memNode0.value("NodeDistances"));
        assertEquals(2L * 4 + 2 * 4, RawClient.namedInstances(c.call("EnumerateInstances", V, RawClient.className("ClassName",
                "Ferry_AllocationCapabilities"))).size(), "one per pool: 4 primordial + 4 per-node pools, on 2 hosts");
    }
}
