package io.ferryvm.cim;

import static io.ferryvm.cim.Names.VIRTUALIZATION;

import io.ferryvm.core.DiskSpec;
import io.ferryvm.core.host.HostInventory;
import java.util.ArrayList;
import java.util.List;

/**
 * DSP1042 System Virtualization and the resource pools of DSP1041/DSP1043: one Ferry_HostSystem per
 * cluster host with its VirtualSystemManagementService, and per host a primordial pool per resource
 * type plus a child pool per NUMA node for processors and memory (capacity from the host's NUMA
 * inventory, reservations from the VMs bound there), each with its AllocationCapabilities.
 *
 * <pre>
 *   Ferry_HostSystem --HostedService--> Ferry_VirtualSystemManagementService --ElementCapabilities--> VSM Capabilities
 *        |--HostedResourcePool--> Ferry_ProcessorPool "host/Processor" --ElementAllocatedFromPool--> ".../node0", ".../node1"
 *        |                        Ferry_MemoryPool, Ferry_DiskPool, Ferry_NetworkPool  --ResourceAllocationFromPool--> RASDs
 * </pre>
 */
final class HostProfile {
    static final String HOST = "Ferry_HostSystem";
    static final String VSMS = "Ferry_VirtualSystemManagementService";
    static final String VSMC = "Ferry_VirtualSystemManagementCapabilities";
    static final String VSMC_ID = "Ferry:VirtualSystemManagementCapabilities";
    static final String PROCESSOR_POOL = "Ferry_ProcessorPool";
    static final String MEMORY_POOL = "Ferry_MemoryPool";
    static final String DISK_POOL = "Ferry_DiskPool";
    static final String NETWORK_POOL = "Ferry_NetworkPool";
    static final String ALLOCATION_CAPABILITIES = "Ferry_AllocationCapabilities";

    private HostProfile() {}

    static void register(List<Provider> out) {
        out.add(SimpleProvider.of(VIRTUALIZATION, HOST, ctx -> eachHost(ctx, h -> List.of(host(ctx, h))))
                .get((ctx, p) -> ctx.host(p.keyString("Name")).map(h -> host(ctx, h)).orElse(null)));
        out.add(SimpleProvider.of(VIRTUALIZATION, VSMS, ctx -> eachHost(ctx, h -> List.of(vsms(ctx, h))))
                .get((ctx, p) -> ctx.host(p.keyString("SystemName")).map(h -> vsms(ctx, h)).orElse(null))
                .invoke(SystemSettings::invoke));
        out.add(SimpleProvider.of(VIRTUALIZATION, VSMC, ctx -> List.of(vsmc(ctx))));
        for (String pool : List.of(PROCESSOR_POOL, MEMORY_POOL, DISK_POOL, NETWORK_POOL)) {
            out.add(SimpleProvider.of(VIRTUALIZATION, pool, ctx -> eachHost(ctx, h -> only(pools(ctx, h), pool))));
        }
        out.add(SimpleProvider.of(VIRTUALIZATION, ALLOCATION_CAPABILITIES, ctx -> eachHost(ctx, h -> {
            List<CimInstance> l = new ArrayList<>();
            for (CimInstance p : pools(ctx, h)) {
                l.add(allocationCapabilities(ctx, p));
            }
            return l;
        })));

        out.add(SimpleProvider.of(VIRTUALIZATION, "Ferry_HostedService", ctx -> eachHost(ctx, h -> List.of(
                ctx.instance(VIRTUALIZATION, "Ferry_HostedService").set("Antecedent", hostPath(h.name()))
                        .set("Dependent", vsmsPath(h.name())).build(),
                ctx.instance(VIRTUALIZATION, "Ferry_HostedService").set("Antecedent", hostPath(h.name()))
                        .set("Dependent", MigrationProfile.servicePath(h.name())).build()))));
        out.add(SimpleProvider.of(VIRTUALIZATION, "Ferry_HostedResourcePool", ctx -> eachHost(ctx, h -> {
            List<CimInstance> l = new ArrayList<>();
            for (CimInstance p : pools(ctx, h)) {
                l.add(ctx.instance(VIRTUALIZATION, "Ferry_HostedResourcePool").set("GroupComponent", hostPath(h.name()))
                        .set("PartComponent", p.path()).build());
            }
            return l;
        })));
        out.add(SimpleProvider.of(VIRTUALIZATION, "Ferry_ElementCapabilities", HostProfile::elementCapabilities)
                .scope((ctx, target) -> {
                    String vm = VirtualSystemProfile.vmNameOf(target);
                    return vm == null ? null : VirtualSystemProfile.vmOf(ctx, vm).map(v -> List.of(vmCapabilities(ctx, v))).orElse(List.of());
                }));
        out.add(SimpleProvider.of(VIRTUALIZATION, "Ferry_ResourceAllocationFromPool",
                ctx -> VirtualSystemProfile.map(ctx, v -> allocationsFromPool(ctx, v)))
                .scope((ctx, target) -> {
                    String vm = VirtualSystemProfile.vmNameOf(target);
                    return vm == null ? null : VirtualSystemProfile.vmOf(ctx, vm).map(v -> allocationsFromPool(ctx, v)).orElse(List.of());
                }));
        out.add(SimpleProvider.of(VIRTUALIZATION, "Ferry_ElementAllocatedFromPool", HostProfile::allocatedFromPool)
                .scope((ctx, target) -> {
                    String vm = VirtualSystemProfile.vmNameOf(target);
                    return vm == null ? null : VirtualSystemProfile.vmOf(ctx, vm).map(v -> devicesFromPools(ctx, v)).orElse(List.of());
                }));
    }

    private static List<CimInstance> eachHost(CallContext ctx, java.util.function.Function<CimBackend.Host, List<CimInstance>> f) {
        List<CimInstance> out = new ArrayList<>();
        for (CimBackend.Host h : ctx.hosts()) {
            out.addAll(f.apply(h));
        }
        return out;
    }

    private static List<CimInstance> only(List<CimInstance> all, String cls) {
        return all.stream().filter(i -> i.className().equals(cls)).toList();
    }

    // ---- paths ----

    static CimObjectPath hostPath(String host) {
        return CimObjectPath.builder(VIRTUALIZATION, HOST).key("CreationClassName", HOST).key("Name", host).build();
    }

    static CimObjectPath vsmsPath(String host) {
        return CimObjectPath.builder(VIRTUALIZATION, VSMS).key("SystemCreationClassName", HOST).key("SystemName", host)
                .key("CreationClassName", VSMS).key("Name", "Management Service").build();
    }

    static String poolId(String host, String kind) {
        return host + "/" + kind;
    }

    static CimObjectPath poolPath(String host, String kind) {
        String cls = kind.startsWith("Processor") ? PROCESSOR_POOL : kind.startsWith("Memory") ? MEMORY_POOL
                : kind.equals("Disk") ? DISK_POOL : NETWORK_POOL;
        return CimObjectPath.builder(VIRTUALIZATION, cls).key("InstanceID", VirtualSystemProfile.PREFIX + poolId(host, kind)).build();
    }

    // ---- instances ----

    static CimInstance host(CallContext ctx, CimBackend.Host h) {
        HostInventory inv = h.inventory();
        return ctx.instance(VIRTUALIZATION, HOST)
                .set("CreationClassName", HOST)
                .set("Name", h.name())
                .set("ElementName", h.name())
                .set("Caption", "Ferry host")
                .set("Description", "A hypervisor host of the Ferry cluster")
                .set("NameFormat", "Other")
                .set("Dedicated", List.of(0L))
                .set("EnabledState", h.up() ? 2 : 0)
                .set("RequestedState", 12)
                .set("EnabledDefault", 2)
                .set("OperationalStatus", h.up() ? List.of(2L) : List.of(13L))
                .set("HealthState", h.up() ? 5 : 20)
                .set("PrimaryStatus", h.up() ? 1 : 3)
                .set("ClusterAddress", h.address())
                .set("Draining", h.draining())
                .set("NumaNodes", (long) inv.nodes().size())
                .set("LogicalProcessors", (long) inv.cpuCount())
                .set("MemoryBytes", inv.totalMemory())
                .build();
    }

    static CimInstance vsms(CallContext ctx, CimBackend.Host h) {
        return ctx.instance(VIRTUALIZATION, VSMS)
                .set("SystemCreationClassName", HOST)
                .set("SystemName", h.name())
                .set("CreationClassName", VSMS)
                .set("Name", "Management Service")
                .set("ElementName", "Virtual system management on " + h.name())
                .set("Caption", "Virtual System Management Service")
                .set("Started", h.up())
                .set("EnabledState", h.up() ? 2 : 0)
                .set("RequestedState", 12)
                .set("OperationalStatus", h.up() ? List.of(2L) : List.of(13L))
                .set("HealthState", h.up() ? 5 : 20)
                .build();
    }

    static CimInstance vsmc(CallContext ctx) {
        return ctx.instance(VIRTUALIZATION, VSMC)
                .set("InstanceID", VSMC_ID)
                .set("ElementName", "Virtual system management capabilities")
                .set("VirtualSystemTypesSupported", List.of(VirtualSystemProfile.SYSTEM_TYPE))
                .set("SynchronousMethodsSupported", List.of(0L, 1L, 2L, 3L, 4L, 5L))
                .set("AsynchronousMethodsSupported", List.of())
                .set("IndicationsSupported", List.of(2L, 3L, 4L))
                .build();
    }

    /** The pools of one host: primordial pools per type, then a processor and a memory pool per NUMA node. */
    static List<CimInstance> pools(CallContext ctx, CimBackend.Host h) {
        HostInventory inv = h.inventory();
        List<CimBackend.Vm> active = new ArrayList<>();
        List<CimBackend.Vm> defined = new ArrayList<>();
        for (CimBackend.Vm v : ctx.vms()) {
            if (h.name().equals(v.host())) {
                defined.add(v);
                if (v.status().isActive()) {
                    active.add(v);
                }
            }
        }
        List<CimInstance> out = new ArrayList<>();
        long vcpus = active.stream().mapToLong(v -> v.spec().vcpus()).sum();
        out.add(pool(ctx, h, "Processor", PROCESSOR_POOL, 3, "count", inv.cpuCount(), vcpus, true)
                .set("LogicalProcessors", inv.cpus().stream().map(c -> (long) c.id()).toList())
                .build());
        long memMiB = active.stream().mapToLong(v -> v.spec().memoryBytes() >> 20).sum();
        out.add(pool(ctx, h, "Memory", MEMORY_POOL, 4, "byte*2^20", inv.totalMemory() >> 20, memMiB, true).build());
        long diskBytes = defined.stream().flatMap(v -> v.spec().disks().stream()).mapToLong(DiskSpec::capacityBytes).sum();
        out.add(pool(ctx, h, "Disk", DISK_POOL, 17, "byte", null, diskBytes, true).build());
        long nics = defined.stream().mapToLong(v -> v.spec().nics().size()).sum();
        out.add(pool(ctx, h, "Network", NETWORK_POOL, 10, "count", null, nics, true).build());
        for (HostInventory.NumaNode n : inv.nodes()) {
            long nodeVcpus = 0;
            long nodeMem = 0;
            for (CimBackend.Vm v : active) {
                for (int i = 0; i < v.spec().vcpus(); i++) {
                    List<Integer> cpus = v.binding().cpusOf(i);
                    if (!cpus.isEmpty() && n.cpus().contains(cpus.get(0))) {
                        nodeVcpus++;
                    }
                }
                List<Integer> memNodes = v.binding().memory().nodes();
                if (memNodes.contains(n.id())) {
                    nodeMem += (v.spec().memoryBytes() / memNodes.size()) >> 20;
                }
            }
            out.add(pool(ctx, h, "Processor/node" + n.id(), PROCESSOR_POOL, 3, "count", n.cpus().size(), nodeVcpus, false)
                    .set("NumaNode", (long) n.id())
                    .set("LogicalProcessors", n.cpus().stream().map(Integer::longValue).toList())
                    .build());
            out.add(pool(ctx, h, "Memory/node" + n.id(), MEMORY_POOL, 4, "byte*2^20", n.memoryBytes() >> 20, nodeMem, false)
                    .set("NumaNode", (long) n.id())
                    .set("NodeDistances", n.distances().stream().map(Integer::longValue).toList())
                    .build());
        }
        return out;
    }

    private static InstanceBuilder pool(CallContext ctx, CimBackend.Host h, String kind, String cls, int type, String units,
            Number capacity, long reserved, boolean primordial) {
        return ctx.instance(VIRTUALIZATION, cls)
                .set("InstanceID", VirtualSystemProfile.PREFIX + poolId(h.name(), kind))
                .set("PoolID", poolId(h.name(), kind))
                .set("ElementName", kind.replace("/", " ") + " pool of " + h.name())
                .set("Primordial", primordial)
                .set("ResourceType", type)
                .set("AllocationUnits", units)
                .set("Capacity", capacity == null ? null : capacity.longValue())
                .set("Reserved", reserved)
                .set("CurrentlyConsumedResource", reserved)
                .set("ConsumedResourceUnits", units)
                .set("MaxConsumableResource", capacity == null ? null : capacity.longValue())
                .set("OperationalStatus", h.up() ? List.of(2L) : List.of(13L))
                .set("HealthState", h.up() ? 5 : 20);
    }

    static CimInstance allocationCapabilities(CallContext ctx, CimInstance pool) {
        long type = pool.integer("ResourceType");
        return ctx.instance(VIRTUALIZATION, ALLOCATION_CAPABILITIES)
                .set("InstanceID", pool.string("InstanceID"))
                .set("ElementName", "Allocation capabilities of " + pool.string("PoolID"))
                .set("ResourceType", type)
                .set("RequestTypesSupported", 3)
                .set("SharingMode", type == 4 ? 2 : 3)
                .build();
    }

    private static CimObjectPath capabilitiesPath(CimInstance pool) {
        return CimObjectPath.builder(VIRTUALIZATION, ALLOCATION_CAPABILITIES).key("InstanceID", pool.string("InstanceID")).build();
    }

    // ---- associations ----

    private static CimInstance vmCapabilities(CallContext ctx, CimBackend.Vm v) {
        return ctx.instance(VIRTUALIZATION, "Ferry_ElementCapabilities").set("ManagedElement", VirtualSystemProfile.csPath(v.name()))
                .set("Capabilities", CimObjectPath.builder(VIRTUALIZATION, VirtualSystemProfile.ELEC)
                        .key("InstanceID", VirtualSystemProfile.PREFIX + v.name()).build())
                .set("Characteristics", List.of(2L, 3L)).build();
    }

    private static List<CimInstance> elementCapabilities(CallContext ctx) {
        List<CimInstance> out = new ArrayList<>();
        CimObjectPath vsmc = CimObjectPath.builder(VIRTUALIZATION, VSMC).key("InstanceID", VSMC_ID).build();
        CimObjectPath migrationCaps = MigrationProfile.capabilitiesPath();
        for (CimBackend.Host h : ctx.hosts()) {
            out.add(ctx.instance(VIRTUALIZATION, "Ferry_ElementCapabilities").set("ManagedElement", vsmsPath(h.name()))
                    .set("Capabilities", vsmc).set("Characteristics", List.of(2L, 3L)).build());
            out.add(ctx.instance(VIRTUALIZATION, "Ferry_ElementCapabilities").set("ManagedElement", MigrationProfile.servicePath(h.name()))
                    .set("Capabilities", migrationCaps).set("Characteristics", List.of(2L, 3L)).build());
            for (CimInstance p : pools(ctx, h)) {
                out.add(ctx.instance(VIRTUALIZATION, "Ferry_ElementCapabilities").set("ManagedElement", p.path())
                        .set("Capabilities", capabilitiesPath(p)).set("Characteristics", List.of(2L, 3L)).build());
            }
        }
        for (CimBackend.Vm v : ctx.vms()) {
            out.add(vmCapabilities(ctx, v));
        }
        return out;
    }

    /** RASD <- the host pool of its type. */
    private static List<CimInstance> allocationsFromPool(CallContext ctx, CimBackend.Vm v) {
        List<CimInstance> out = new ArrayList<>();
        if (v.host() == null) {
            return out;
        }
        for (CimInstance r : VirtualSystemProfile.rasds(ctx, v)) {
            String kind = kindOf(r.className());
            out.add(ctx.instance(VIRTUALIZATION, "Ferry_ResourceAllocationFromPool").set("Antecedent", poolPath(v.host(), kind))
                    .set("Dependent", r.path()).build());
        }
        return out;
    }

    private static String kindOf(String cls) {
        switch (cls) {
            case VirtualSystemProfile.PROC_RASD:
            case VirtualSystemProfile.PROCESSOR:
                return "Processor";
            case VirtualSystemProfile.MEM_RASD:
            case VirtualSystemProfile.MEMORY:
                return "Memory";
            case VirtualSystemProfile.DISK_RASD:
            case VirtualSystemProfile.DISK:
                return "Disk";
            default:
                return "Network";
        }
    }

    /** Child pools <- their host pool, and devices <- the pool they draw from (a vCPU from its NUMA node's pool). */
    private static List<CimInstance> allocatedFromPool(CallContext ctx) {
        List<CimInstance> out = new ArrayList<>();
        for (CimBackend.Host h : ctx.hosts()) {
            for (HostInventory.NumaNode n : h.inventory().nodes()) {
                out.add(ctx.instance(VIRTUALIZATION, "Ferry_ElementAllocatedFromPool").set("Antecedent", poolPath(h.name(), "Processor"))
                        .set("Dependent", poolPath(h.name(), "Processor/node" + n.id())).build());
                out.add(ctx.instance(VIRTUALIZATION, "Ferry_ElementAllocatedFromPool").set("Antecedent", poolPath(h.name(), "Memory"))
                        .set("Dependent", poolPath(h.name(), "Memory/node" + n.id())).build());
            }
        }
        for (CimBackend.Vm v : ctx.vms()) {
            out.addAll(devicesFromPools(ctx, v));
        }
        return out;
    }

    private static List<CimInstance> devicesFromPools(CallContext ctx, CimBackend.Vm v) {
        List<CimInstance> out = new ArrayList<>();
        if (v.host() == null) {
            return out;
        }
        HostInventory inv = ctx.host(v.host()).map(CimBackend.Host::inventory).orElse(null);
        for (CimInstance d : VirtualSystemProfile.devices(ctx, v)) {
            String kind = kindOf(d.className());
            if (kind.equals("Processor") && inv != null) {
                int vcpu = Integer.parseInt(d.string("DeviceID").substring(4));
                List<Integer> cpus = v.binding().cpusOf(vcpu);
                if (!cpus.isEmpty()) {
                    for (HostInventory.NumaNode n : inv.nodes()) {
                        if (n.cpus().contains(cpus.get(0))) {
                            kind = "Processor/node" + n.id();
                        }
                    }
                }
            }
            if (kind.equals("Memory") && v.binding().memory().nodes().size() == 1) {
                kind = "Memory/node" + v.binding().memory().nodes().get(0);
            }
            out.add(ctx.instance(VIRTUALIZATION, "Ferry_ElementAllocatedFromPool").set("Antecedent", poolPath(v.host(), kind))
                    .set("Dependent", d.path()).build());
        }
        return out;
    }
}
