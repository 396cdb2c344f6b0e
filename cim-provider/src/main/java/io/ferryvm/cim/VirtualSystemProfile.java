package io.ferryvm.cim;

import static io.ferryvm.cim.Names.VIRTUALIZATION;

import io.ferryvm.core.DiskSpec;
import io.ferryvm.core.NicSpec;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmSpecJson;
import io.ferryvm.core.VmStatus;
import io.ferryvm.core.guest.Workload;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * DSP1057 Virtual System: one Ferry_ComputerSystem per VM with its settings (VSSD and one RASD per
 * processor set, memory, disk and NIC), its logical devices, its state capabilities and the
 * associations between them, all computed from the cluster's view of the VM. RequestStateChange
 * starts, stops, pauses, resumes and reboots VMs.
 *
 * <pre>
 *   Ferry_HostSystem --HostedDependency--> Ferry_ComputerSystem --SystemDevice--> Ferry_Processor/Memory/LogicalDisk/NetworkPort
 *                                           |  ElementSettingData, SettingsDefineState              | SettingsDefineState
 *                                           v                                                       v
 *                              Ferry_VirtualSystemSettingData --VSSDComponent--> Ferry_*AllocationSettingData
 * </pre>
 */
final class VirtualSystemProfile {
    static final String CS = "Ferry_ComputerSystem";
    static final String VSSD = "Ferry_VirtualSystemSettingData";
    static final String PROC_RASD = "Ferry_ProcessorAllocationSettingData";
    static final String MEM_RASD = "Ferry_MemoryAllocationSettingData";
    static final String DISK_RASD = "Ferry_DiskAllocationSettingData";
    static final String NIC_RASD = "Ferry_NetworkAllocationSettingData";
    static final String PROCESSOR = "Ferry_Processor";
    static final String MEMORY = "Ferry_Memory";
    static final String DISK = "Ferry_LogicalDisk";
    static final String PORT = "Ferry_NetworkPort";
    static final String ELEC = "Ferry_EnabledLogicalElementCapabilities";
    static final String PREFIX = "Ferry:";
    static final String SYSTEM_TYPE = "Ferry";

    private VirtualSystemProfile() {}

    static void register(List<Provider> out) {
        out.add(SimpleProvider.of(VIRTUALIZATION, CS, ctx -> map(ctx, v -> List.of(computerSystem(ctx, v))))
                .get((ctx, p) -> vmOf(ctx, p.keyString("Name")).map(v -> computerSystem(ctx, v)).orElse(null))
                .invoke(VirtualSystemProfile::invokeOnSystem));
        out.add(SimpleProvider.of(VIRTUALIZATION, VSSD, ctx -> map(ctx, v -> List.of(vssd(ctx, v))))
                .get((ctx, p) -> vmOf(ctx, vmFromInstanceId(p.keyString("InstanceID"))).map(v -> vssd(ctx, v)).orElse(null))
                .modify(SystemSettings::modifyInstance));
        for (String rasdClass : List.of(PROC_RASD, MEM_RASD, DISK_RASD, NIC_RASD)) {
            out.add(SimpleProvider.of(VIRTUALIZATION, rasdClass, ctx -> map(ctx, v -> only(rasds(ctx, v), rasdClass)))
                    .get((ctx, p) -> vmOf(ctx, vmFromInstanceId(p.keyString("InstanceID")))
                            .flatMap(v -> find(only(rasds(ctx, v), rasdClass), p)).orElse(null))
                    .modify(SystemSettings::modifyResourceInstance)
                    .delete(SystemSettings::deleteResourceInstance));
        }
        for (String deviceClass : List.of(PROCESSOR, MEMORY, DISK, PORT)) {
            out.add(SimpleProvider.of(VIRTUALIZATION, deviceClass, ctx -> map(ctx, v -> only(devices(ctx, v), deviceClass)))
                    .get((ctx, p) -> vmOf(ctx, p.keyString("SystemName"))
                            .flatMap(v -> find(only(devices(ctx, v), deviceClass), p)).orElse(null)));
        }
        out.add(SimpleProvider.of(VIRTUALIZATION, ELEC, ctx -> map(ctx, v -> List.of(capabilities(ctx, v))))
                .get((ctx, p) -> vmOf(ctx, vmFromInstanceId(p.keyString("InstanceID"))).map(v -> capabilities(ctx, v)).orElse(null)));

        out.add(association("Ferry_SystemDevice", (ctx, v) -> {
            List<CimInstance> l = new ArrayList<>();
            for (CimInstance d : devices(ctx, v)) {
                l.add(ctx.instance(VIRTUALIZATION, "Ferry_SystemDevice").set("GroupComponent", csPath(v.name()))
                        .set("PartComponent", d.path()).build());
            }
            return l;
        }));
        out.add(association("Ferry_VirtualSystemSettingDataComponent", (ctx, v) -> {
            List<CimInstance> l = new ArrayList<>();
            for (CimInstance r : rasds(ctx, v)) {
                l.add(ctx.instance(VIRTUALIZATION, "Ferry_VirtualSystemSettingDataComponent")
                        .set("GroupComponent", vssdPath(v.name())).set("PartComponent", r.path()).build());
            }
            return l;
        }));
        out.add(association("Ferry_ElementSettingData", (ctx, v) -> List.of(ctx.instance(VIRTUALIZATION, "Ferry_ElementSettingData")
                .set("ManagedElement", csPath(v.name())).set("SettingData", vssdPath(v.name()))
                .set("IsDefault", 1).set("IsCurrent", 1).set("IsNext", 1).build())));
        out.add(association("Ferry_SettingsDefineState", (ctx, v) -> {
            List<CimInstance> l = new ArrayList<>();
            l.add(ctx.instance(VIRTUALIZATION, "Ferry_SettingsDefineState").set("ManagedElement", csPath(v.name()))
                    .set("SettingData", vssdPath(v.name())).build());
            List<CimInstance> rasds = rasds(ctx, v);
            for (CimInstance d : devices(ctx, v)) {
                String rasdId = rasdIdOfDevice(v.name(), d.string("DeviceID"));
                for (CimInstance r : rasds) {
                    if (r.string("InstanceID").equals(rasdId)) {
                        l.add(ctx.instance(VIRTUALIZATION, "Ferry_SettingsDefineState").set("ManagedElement", d.path())
                                .set("SettingData", r.path()).build());
                    }
                }
            }
            return l;
        }));
        out.add(association("Ferry_HostedDependency", (ctx, v) -> v.host() == null ? List.of()
                : List.of(ctx.instance(VIRTUALIZATION, "Ferry_HostedDependency").set("Antecedent", HostProfile.hostPath(v.host()))
                        .set("Dependent", csPath(v.name())).build())));
        out.add(association("Ferry_ServiceAffectsElement", (ctx, v) -> v.host() == null ? List.of()
                : List.of(ctx.instance(VIRTUALIZATION, "Ferry_ServiceAffectsElement").set("AffectedElement", csPath(v.name()))
                        .set("AffectingElement", HostProfile.vsmsPath(v.host())).set("ElementEffects", List.of(5L)).build())));
    }

    /** An association whose instances are per VM: referencing a VM's element only computes that VM's instances. */
    private static SimpleProvider association(String cls, java.util.function.BiFunction<CallContext, CimBackend.Vm, List<CimInstance>> perVm) {
        return SimpleProvider.of(VIRTUALIZATION, cls, ctx -> map(ctx, v -> perVm.apply(ctx, v)))
                .scope((ctx, target) -> {
                    String vm = vmNameOf(target);
                    if (vm == null) {
                        return null;
                    }
                    return vmOf(ctx, vm).map(v -> perVm.apply(ctx, v)).orElse(List.of());
                });
    }

    static List<CimInstance> map(CallContext ctx, java.util.function.Function<CimBackend.Vm, List<CimInstance>> f) {
        List<CimInstance> out = new ArrayList<>();
        for (CimBackend.Vm v : ctx.vms()) {
            out.addAll(f.apply(v));
        }
        return out;
    }

    private static List<CimInstance> only(List<CimInstance> all, String cls) {
        List<CimInstance> out = new ArrayList<>();
        for (CimInstance i : all) {
            if (i.className().equals(cls)) {
                out.add(i);
            }
        }
        return out;
    }

    private static Optional<CimInstance> find(List<CimInstance> all, CimObjectPath p) {
        return all.stream().filter(i -> i.path().equals(p)).findFirst();
    }

    static Optional<CimBackend.Vm> vmOf(CallContext ctx, String name) {
        return name == null ? Optional.empty() : ctx.vm(name);
    }

    /** "Ferry:web/disk/root" -> "web"; null when the id is not one of Ferry's. */
    static String vmFromInstanceId(String id) {
        if (id == null || !id.startsWith(PREFIX)) {
            return null;
        }
        String rest = id.substring(PREFIX.length());
        int slash = rest.indexOf('/');
        return slash < 0 ? rest : rest.substring(0, slash);
    }

    /** The VM an element of this profile belongs to, from its path alone; null for elements of no VM. */
    static String vmNameOf(CimObjectPath p) {
        String cls = p.className();
        if (cls.equalsIgnoreCase(CS)) {
            return p.keyString("Name");
        }
        if (cls.equalsIgnoreCase(PROCESSOR) || cls.equalsIgnoreCase(MEMORY) || cls.equalsIgnoreCase(DISK) || cls.equalsIgnoreCase(PORT)) {
            return p.keyString("SystemName");
        }
        if (cls.equalsIgnoreCase(VSSD) || cls.equalsIgnoreCase(PROC_RASD) || cls.equalsIgnoreCase(MEM_RASD)
                || cls.equalsIgnoreCase(DISK_RASD) || cls.equalsIgnoreCase(NIC_RASD) || cls.equalsIgnoreCase(ELEC)) {
            return vmFromInstanceId(p.keyString("InstanceID"));
        }
        return null;
    }

    // ---- paths ----

    static CimObjectPath csPath(String vm) {
        return CimObjectPath.builder(VIRTUALIZATION, CS).key("CreationClassName", CS).key("Name", vm).build();
    }

    static CimObjectPath vssdPath(String vm) {
        return CimObjectPath.builder(VIRTUALIZATION, VSSD).key("InstanceID", PREFIX + vm).build();
    }

    static String procRasdId(String vm) {
        return PREFIX + vm + "/proc";
    }

    static String memRasdId(String vm) {
        return PREFIX + vm + "/mem";
    }

    static String diskRasdId(String vm, String disk) {
        return PREFIX + vm + "/disk/" + disk;
    }

    static String nicRasdId(String vm, String nic) {
        return PREFIX + vm + "/nic/" + nic;
    }

    private static String rasdIdOfDevice(String vm, String deviceId) {
        if (deviceId.startsWith("proc")) {
            return procRasdId(vm);
        }
        if (deviceId.equals("mem")) {
            return memRasdId(vm);
        }
        return PREFIX + vm + "/" + deviceId;
    }

    // ---- state ----

    /** EnabledState (CIM_EnabledLogicalElement): 2 Enabled, 3 Disabled, 9 Quiesce (paused), 0 Unknown (lost with its host). */
    static int enabledState(CimBackend.Vm v) {
        if (v.lost()) {
            return 0;
        }
        switch (v.status()) {
            case RUNNING:
            case MIGRATING:
                return 2;
            case PAUSED:
                return 9;
            default:
                return 3;
        }
    }

    private static List<Long> availableStates(CimBackend.Vm v) {
        if (v.lost() || v.migrating() || v.status() == VmStatus.MIGRATING) {
            return List.of();
        }
        switch (v.status()) {
            case RUNNING:
                return List.of(3L, 4L, 9L, 10L, 11L);
            case PAUSED:
                return List.of(2L, 3L, 4L, 10L, 11L);
            default:
                return List.of(2L);
        }
    }

    // ---- instances ----

    static CimInstance computerSystem(CallContext ctx, CimBackend.Vm v) {
        int enabled = enabledState(v);
        List<Long> operational;
        int operating;
        if (v.lost()) {
            operational = List.of(13L);
            operating = 0;
        } else if (v.migrating() || v.status() == VmStatus.MIGRATING) {
            operational = List.of(2L, 19L);
            operating = 9;
        } else {
            operational = List.of(2L);
            operating = v.status() == VmStatus.RUNNING ? 16 : v.status() == VmStatus.PAUSED ? 7 : 5;
        }
        return ctx.instance(VIRTUALIZATION, CS)
                .set("CreationClassName", CS)
                .set("Name", v.name())
                .set("ElementName", v.name())
                .set("Caption", "Virtual System")
                .set("Description", "Ferry virtual system " + v.name())
                .set("NameFormat", "Other")
                .set("UUID", v.spec().id().toString())
                .set("HostName", v.host())
                .set("OtherIdentifyingInfo", List.of(v.spec().id().toString()))
                .set("IdentifyingDescriptions", List.of("UUID"))
                .set("Dedicated", List.of(0L))
                .set("EnabledState", enabled)
                .set("RequestedState", ctx.services().requestedStates().of(v.spec().id(), enabled))
                .set("EnabledDefault", 2)
                .set("AvailableRequestedStates", availableStates(v))
                .set("TransitioningToState", 12)
                .set("OperationalStatus", operational)
                .set("OperatingStatus", operating)
                .set("HealthState", v.lost() ? 20 : 5)
                .set("PrimaryStatus", v.lost() ? 3 : 1)
                .set("ResetCapability", 4)
                .build();
    }

    static CimInstance vssd(CallContext ctx, CimBackend.Vm v) {
        VmSpec s = v.spec();
        return ctx.instance(VIRTUALIZATION, VSSD)
                .set("InstanceID", PREFIX + v.name())
                .set("ElementName", v.name())
                .set("Caption", "Virtual System Setting Data")
                .set("VirtualSystemIdentifier", s.id().toString())
                .set("VirtualSystemType", SYSTEM_TYPE)
                .set("ChangeableType", 2)
                .set("AutomaticStartupAction", 2)
                .set("AutomaticShutdownAction", 2)
                .set("AutomaticRecoveryAction", s.ha() == VmSpec.HaPolicy.RESTART ? 3 : 2)
                .set("Notes", s.metadata().isEmpty() ? List.of() : s.metadata().entrySet().stream()
                        .map(e -> e.getKey() + "=" + e.getValue()).toList())
                .set("Workload", workloadJson(s.workload()))
                .set("GuestOS", s.osType())
                .set("GuestNumaNodes", s.numa().guestNodes())
                .set("NumaMemoryPolicy", s.numa().memory().ordinal())
                .set("CpuPolicy", s.numa().cpus().ordinal())
                .build();
    }

    static String workloadJson(Workload w) {
        return new String(VmSpecJson.toJson(w), StandardCharsets.UTF_8).replaceAll("\\s*\\n\\s*", " ").trim();
    }

    static List<CimInstance> rasds(CallContext ctx, CimBackend.Vm v) {
        VmSpec s = v.spec();
        String host = v.host();
        List<CimInstance> out = new ArrayList<>();
        boolean dedicated = s.numa().cpus() == io.ferryvm.core.NumaSpec.CpuPolicy.DEDICATED;
        out.add(ctx.instance(VIRTUALIZATION, PROC_RASD)
                .set("InstanceID", procRasdId(v.name()))
                .set("ElementName", "processors")
                .set("Caption", "Processors of " + v.name())
                .set("ResourceType", 3)
                .set("ConsumerVisibility", 3)
                .set("AllocationUnits", "count")
                .set("VirtualQuantity", (long) s.vcpus())
                .set("VirtualQuantityUnits", "count")
                .set("Reservation", dedicated ? (long) s.vcpus() : 0L)
                .set("Limit", (long) s.vcpus())
                .set("Weight", 100L)
                .set("MappingBehavior", dedicated ? 2 : 3)
                .set("PoolID", host == null ? null : HostProfile.poolId(host, "Processor"))
                .set("AutomaticAllocation", true)
                .build());
        long mib = s.memoryBytes() >> 20;
        boolean wholeMiB = (s.memoryBytes() & ((1 << 20) - 1)) == 0;
        long quantity = wholeMiB ? mib : s.memoryBytes() >> 10;
        out.add(ctx.instance(VIRTUALIZATION, MEM_RASD)
                .set("InstanceID", memRasdId(v.name()))
                .set("ElementName", "memory")
                .set("Caption", "Memory of " + v.name())
                .set("ResourceType", 4)
                .set("ConsumerVisibility", 3)
                .set("AllocationUnits", wholeMiB ? "byte*2^20" : "byte*2^10")
                .set("VirtualQuantity", quantity)
                .set("VirtualQuantityUnits", wholeMiB ? "byte*2^20" : "byte*2^10")
                .set("Reservation", quantity)
                .set("Limit", quantity)
                .set("PoolID", host == null ? null : HostProfile.poolId(host, "Memory"))
                .set("AutomaticAllocation", true)
                .set("HostResource", memoryNodes(v))
                .build());
        for (DiskSpec d : s.disks()) {
            out.add(ctx.instance(VIRTUALIZATION, DISK_RASD)
                    .set("InstanceID", diskRasdId(v.name(), d.name()))
                    .set("ElementName", d.name())
                    .set("ResourceType", 17)
                    .set("ConsumerVisibility", 3)
                    .set("HostResource", List.of(d.path()))
                    .set("AllocationUnits", "byte")
                    .set("VirtualQuantity", d.capacityBytes())
                    .set("VirtualQuantityUnits", "byte")
                    .set("Format", d.format())
                    .set("Bus", d.bus())
                    .set("ReadOnly", d.readOnly())
                    .set("PoolID", host == null ? null : HostProfile.poolId(host, "Disk"))
                    .set("AutomaticAllocation", true)
                    .build());
        }
        for (NicSpec n : s.nics()) {
            out.add(ctx.instance(VIRTUALIZATION, NIC_RASD)
                    .set("InstanceID", nicRasdId(v.name(), n.name()))
                    .set("ElementName", n.name())
                    .set("ResourceType", 10)
                    .set("ResourceSubType", n.model())
                    .set("ConsumerVisibility", 3)
                    .set("Address", n.mac().isEmpty() ? null : n.mac())
                    .set("Connection", List.of(n.network()))
                    .set("AllocationUnits", "count")
                    .set("VirtualQuantity", 1L)
                    .set("PoolID", host == null ? null : HostProfile.poolId(host, "Network"))
                    .set("AutomaticAllocation", true)
                    .build());
        }
        return out;
    }

    /** The NUMA nodes the VM's memory is bound to, as "node N" (empty: not bound). */
    private static List<String> memoryNodes(CimBackend.Vm v) {
        return v.binding().memory().nodes().stream().map(n -> "node " + n).toList();
    }

    static List<CimInstance> devices(CallContext ctx, CimBackend.Vm v) {
        VmSpec s = v.spec();
        List<CimInstance> out = new ArrayList<>();
        int deviceState = v.lost() ? 0 : v.status() == VmStatus.RUNNING || v.status() == VmStatus.MIGRATING ? 2
                : v.status() == VmStatus.PAUSED ? 9 : 3;
        for (int i = 0; i < s.vcpus(); i++) {
            List<Long> cpus = v.binding().cpusOf(i).stream().map(Integer::longValue).toList();
            out.add(device(ctx, v, PROCESSOR, "proc" + i, deviceState)
                    .set("ElementName", "vCPU " + i)
                    .set("Role", "Central Processor")
                    .set("CPUStatus", deviceState == 2 ? 1 : 0)
                    .set("HostCPUs", cpus)
                    .build());
        }
        out.add(device(ctx, v, MEMORY, "mem", deviceState)
                .set("ElementName", "memory")
                .set("BlockSize", 4096L)
                .set("NumberOfBlocks", s.memoryBytes() / 4096)
                .set("ConsumableBlocks", s.memoryBytes() / 4096)
                .set("Volatile", true)
                .set("Access", 3)
                .build());
        for (DiskSpec d : s.disks()) {
            out.add(device(ctx, v, DISK, "disk/" + d.name(), deviceState)
                    .set("ElementName", d.name())
                    .set("Name", d.path())
                    .set("BlockSize", 512L)
                    .set("NumberOfBlocks", d.capacityBytes() / 512)
                    .set("ConsumableBlocks", d.capacityBytes() / 512)
                    .set("Access", d.readOnly() ? 1 : 3)
                    .build());
        }
        for (NicSpec n : s.nics()) {
            out.add(device(ctx, v, PORT, "nic/" + n.name(), deviceState)
                    .set("ElementName", n.name())
                    .set("PermanentAddress", n.mac().isEmpty() ? null : n.mac().replace(":", "").toUpperCase(java.util.Locale.ROOT))
                    .set("NetworkAddresses", n.mac().isEmpty() ? List.of() : List.of(n.mac()))
                    .set("LinkTechnology", 2)
                    .build());
        }
        return out;
    }

    private static InstanceBuilder device(CallContext ctx, CimBackend.Vm v, String cls, String id, int state) {
        return ctx.instance(VIRTUALIZATION, cls)
                .set("SystemCreationClassName", CS)
                .set("SystemName", v.name())
                .set("CreationClassName", cls)
                .set("DeviceID", id)
                .set("EnabledState", state)
                .set("RequestedState", 12);
    }

    static CimInstance capabilities(CallContext ctx, CimBackend.Vm v) {
        return ctx.instance(VIRTUALIZATION, ELEC)
                .set("InstanceID", PREFIX + v.name())
                .set("ElementName", v.name())
                .set("ElementNameEditSupported", false)
                .set("MaxElementNameLen", 64)
                .set("RequestedStatesSupported", List.of(2L, 3L, 4L, 9L, 10L, 11L))
                .build();
    }

    // ---- RequestStateChange ----

    private static MethodResult invokeOnSystem(CallContext ctx, CimObjectPath target, CimClass.Method m, Map<String, Object> args) {
        if (!m.name().equalsIgnoreCase("RequestStateChange")) {
            throw new CimException(CimStatus.METHOD_NOT_AVAILABLE, m.name() + " is not available on " + CS);
        }
        String name = target.keyString("Name");
        if (name == null) {
            throw new CimException(CimStatus.FAILED, "Name key not specified");
        }
        Object requested = args.get("RequestedState");
        if (!(requested instanceof Long)) {
            throw new CimException(CimStatus.INVALID_PARAMETER, "Invalid RequestedState: the parameter is missing");
        }
        int state = (int) (long) (Long) requested;
        CimBackend.Vm vm = ctx.vm(name).orElseThrow(() -> new CimException(CimStatus.NOT_FOUND,
                "No such instance (Name): no virtual system '" + name + "'"));
        CimBackend.Vm after = changeState(ctx, vm, state);
        ctx.changed();
        ctx.services().requestedStates().record(vm.spec().id(), state == 5 ? enabledState(after) : state, enabledState(after));
        return MethodResult.of(0);
    }

    private static CimBackend.Vm changeState(CallContext ctx, CimBackend.Vm vm, int requested) {
        CimBackend b = ctx.backend();
        VmStatus s = vm.status();
        boolean active = s == VmStatus.RUNNING || s == VmStatus.PAUSED;
        String name = vm.name();
        switch (requested) {
            case 2: // Enabled
                if (s == VmStatus.RUNNING) {
                    return vm;
                }
                return b.changeState(name, s == VmStatus.PAUSED ? CimBackend.StateChange.RESUME : CimBackend.StateChange.START);
            case 3: // Disabled
            case 4: // Shut Down
                if (s == VmStatus.DEFINED || s == VmStatus.STOPPED) {
                    return vm;
                }
                return b.changeState(name, CimBackend.StateChange.STOP);
            case 9: // Quiesce: pause
                if (s == VmStatus.PAUSED) {
                    return vm;
                }
                if (s != VmStatus.RUNNING) {
                    throw new CimException(CimStatus.FAILED, "Domain not running: VM " + name + " is "
                            + s.name().toLowerCase(java.util.Locale.ROOT) + ", only a running VM can be paused (Invalid state transition)");
                }
                return b.changeState(name, CimBackend.StateChange.PAUSE);
            case 10: // Reboot
            case 11: // Reset
                if (!active) {
                    throw new CimException(CimStatus.FAILED, "Domain not running: VM " + name + " is "
                            + s.name().toLowerCase(java.util.Locale.ROOT) + " (Invalid state transition)");
                }
                b.changeState(name, CimBackend.StateChange.STOP);
                return b.changeState(name, CimBackend.StateChange.START);
            case 5: // No Change
                return vm;
            case 6:
            case 7:
            case 8:
            case 12:
                throw new CimException(CimStatus.NOT_SUPPORTED, "State not supported: RequestedState " + requested
                        + " (supported: 2 Enabled, 3 Disabled, 4 Shut Down, 9 Quiesce, 10 Reboot, 11 Reset)");
            default:
                throw new CimException(CimStatus.INVALID_PARAMETER, "Invalid RequestedState " + requested);
        }
    }
}
