package io.ferryvm.cim;

import static io.ferryvm.cim.Names.VIRTUALIZATION;

import io.ferryvm.core.DiskSpec;
import io.ferryvm.core.NicSpec;
import io.ferryvm.core.NumaSpec;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmSpecJson;
import io.ferryvm.core.guest.Workload;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;

/**
 * The VirtualSystemManagementService's methods (DSP1042) and ModifyInstance/DeleteInstance of settings:
 * translating VSSD and RASD instances to and from {@link VmSpec}. Changes to an existing VM go through
 * {@link CimBackend#redefine}, so they apply to inactive (defined or stopped) VMs; a request that
 * changes nothing succeeds on any VM.
 */
final class SystemSettings {
    private static final String VSSD_BASE = "CIM_VirtualSystemSettingData";
    private static final String RASD_BASE = "CIM_ResourceAllocationSettingData";

    private SystemSettings() {}

    // ---- methods ----

    static MethodResult invoke(CallContext ctx, CimObjectPath target, CimClass.Method m, Map<String, Object> args) {
        switch (m.name()) {
            case "DefineSystem":
                return defineSystem(ctx, target, args);
            case "DestroySystem":
                return destroySystem(ctx, args);
            case "ModifySystemSettings":
                return modifySystemSettings(ctx, args);
            case "AddResourceSettings":
                return addResourceSettings(ctx, args);
            case "ModifyResourceSettings":
                return modifyResourceSettings(ctx, args);
            case "RemoveResourceSettings":
                return removeResourceSettings(ctx, args);
            default:
                throw new CimException(CimStatus.METHOD_NOT_AVAILABLE, m.name() + " is not available on the management service");
        }
    }

    private static MethodResult defineSystem(CallContext ctx, CimObjectPath service, Map<String, Object> args) {
        String host = service.keyString("SystemName");
        if (host == null) {
            throw new CimException(CimStatus.INVALID_PARAMETER, "the service path has no SystemName key");
        }
        Object ss = args.get("SystemSettings");
        if (ss == null) {
            throw new CimException(CimStatus.INVALID_PARAMETER, "DefineSystem needs SystemSettings (an embedded VirtualSystemSettingData)");
        }
        CimInstance vssd = Embedded.parse(ss, ctx.repo(), VIRTUALIZATION, VSSD_BASE);
        String name = vssd.string("ElementName");
        if (name == null || name.isBlank()) {
            name = vssd.string("VirtualSystemIdentifier");
        }
        if (name == null || name.isBlank()) {
            throw new CimException(CimStatus.INVALID_PARAMETER, "SystemSettings needs an ElementName: the VM's name");
        }
        VmSpec base;
        Object ref = args.get("ReferenceConfiguration");
        if (ref instanceof CimObjectPath) {
            String from = VirtualSystemProfile.vmFromInstanceId(((CimObjectPath) ref).keyString("InstanceID"));
            CimBackend.Vm template = VirtualSystemProfile.vmOf(ctx, from).orElseThrow(() -> new CimException(CimStatus.NOT_FOUND,
                    "ReferenceConfiguration " + ref + " names no virtual system"));
            base = template.spec().withId(UUID.randomUUID()).withName(checkName(name));
        } else {
            base = VmSpec.of(checkName(name), 1, 256L << 20, new Workload.Idle());
        }
        VmSpec spec;
        try {
            spec = applySystem(base, vssd, false);
            List<?> resources = args.get("ResourceSettings") instanceof List ? (List<?>) args.get("ResourceSettings") : List.of();
            for (Object r : resources) {
                if (r == null) {
                    continue;
                }
                spec = applyResource(spec, Embedded.parse(r, ctx.repo(), VIRTUALIZATION, RASD_BASE), Mode.DEFINE);
            }
            String workload = vssd.string("Workload");
            if (workload != null && !workload.isBlank()) {
                spec = spec.withWorkload(workload(workload.trim(), spec.memoryBytes())); // sized by the final memory
            }
        } catch (IllegalArgumentException e) {
            throw new CimException(CimStatus.INVALID_PARAMETER, e.getMessage());
        }
        CimBackend.Vm vm = ctx.backend().define(spec, host);
        ctx.changed();
        return MethodResult.of(0, "ResultingSystem", VirtualSystemProfile.csPath(vm.name()));
    }

    private static String checkName(String name) {
        try {
            return VmSpec.of(name, 1, 1L << 20, null).name();
        } catch (IllegalArgumentException e) {
            throw new CimException(CimStatus.INVALID_PARAMETER, e.getMessage());
        }
    }

    private static MethodResult destroySystem(CallContext ctx, Map<String, Object> args) {
        Object ref = args.get("AffectedSystem");
        if (!(ref instanceof CimObjectPath)) {
            throw new CimException(CimStatus.NOT_FOUND, "Unable to retrieve domain name: AffectedSystem is missing");
        }
        String name = ((CimObjectPath) ref).keyString("Name");
        if (name == null) {
            throw new CimException(CimStatus.NOT_FOUND, "Unable to retrieve domain name: AffectedSystem has no Name key");
        }
        if (ctx.vm(name).isEmpty()) {
            throw new CimException(CimStatus.NOT_FOUND, "Failed to find domain: no virtual system '" + name + "'");
        }
        ctx.backend().destroy(name);
        ctx.changed();
        return MethodResult.of(0);
    }

    private static MethodResult modifySystemSettings(CallContext ctx, Map<String, Object> args) {
        Object ss = args.get("SystemSettings");
        if (ss == null) {
            throw new CimException(CimStatus.INVALID_PARAMETER, "ModifySystemSettings needs SystemSettings");
        }
        CimInstance vssd = Embedded.parse(ss, ctx.repo(), VIRTUALIZATION, VSSD_BASE);
        CimBackend.Vm vm = vmOfSetting(ctx, vssd.string("InstanceID"));
        redefine(ctx, vm, applySystem(vm.spec(), vssd, true));
        return MethodResult.of(0);
    }

    private static MethodResult addResourceSettings(CallContext ctx, Map<String, Object> args) {
        Object ref = args.get("AffectedConfiguration");
        if (!(ref instanceof CimObjectPath)) {
            throw new CimException(CimStatus.INVALID_PARAMETER, "AddResourceSettings needs AffectedConfiguration (a VSSD reference)");
        }
        CimBackend.Vm vm = vmOfSetting(ctx, ((CimObjectPath) ref).keyString("InstanceID"));
        VmSpec spec = vm.spec();
        List<Object> added = new ArrayList<>();
        for (Object r : list(args.get("ResourceSettings"))) {
            CimInstance rasd = Embedded.parse(r, ctx.repo(), VIRTUALIZATION, RASD_BASE);
            VmSpec next = guarded(spec, s -> applyResource(s, rasd, Mode.ADD));
            added.add(resultingPath(vm.name(), spec, next));
            spec = next;
        }
        redefine(ctx, vm, spec);
        return MethodResult.of(0, "ResultingResourceSettings", added);
    }

    private static MethodResult modifyResourceSettings(CallContext ctx, Map<String, Object> args) {
        Map<String, VmSpec> changed = new LinkedHashMap<>();
        Map<String, CimBackend.Vm> vms = new LinkedHashMap<>();
        List<Object> results = new ArrayList<>();
        for (Object r : list(args.get("ResourceSettings"))) {
            CimInstance rasd = Embedded.parse(r, ctx.repo(), VIRTUALIZATION, RASD_BASE);
            String id = rasd.string("InstanceID");
            CimBackend.Vm vm = vmOfSetting(ctx, id);
            vms.putIfAbsent(vm.name(), vm);
            VmSpec spec = changed.getOrDefault(vm.name(), vm.spec());
            changed.put(vm.name(), guarded(spec, s -> applyResource(s, rasd, Mode.MODIFY)));
            results.add(rasdPath(id));
        }
        for (Map.Entry<String, VmSpec> e : changed.entrySet()) {
            redefine(ctx, vms.get(e.getKey()), e.getValue());
        }
        return MethodResult.of(0, "ResultingResourceSettings", results);
    }

    private static MethodResult removeResourceSettings(CallContext ctx, Map<String, Object> args) {
        Map<String, VmSpec> changed = new LinkedHashMap<>();
        Map<String, CimBackend.Vm> vms = new LinkedHashMap<>();
        for (Object r : list(args.get("ResourceSettings"))) {
            if (!(r instanceof CimObjectPath)) {
                throw new CimException(CimStatus.INVALID_PARAMETER, "ResourceSettings must be RASD references");
            }
            String id = ((CimObjectPath) r).keyString("InstanceID");
            CimBackend.Vm vm = vmOfSetting(ctx, id);
            vms.putIfAbsent(vm.name(), vm);
            VmSpec spec = changed.getOrDefault(vm.name(), vm.spec());
            changed.put(vm.name(), remove(spec, id));
        }
        for (Map.Entry<String, VmSpec> e : changed.entrySet()) {
            redefine(ctx, vms.get(e.getKey()), e.getValue());
        }
        return MethodResult.of(0);
    }

    // ---- ModifyInstance / DeleteInstance ----

    static void modifyInstance(CallContext ctx, CimInstance modified, Set<String> propertyList) {
        CimBackend.Vm vm = vmOfSetting(ctx, modified.path().keyString("InstanceID"));
        redefine(ctx, vm, applySystem(vm.spec(), selected(modified, propertyList), true));
    }

    static void modifyResourceInstance(CallContext ctx, CimInstance modified, Set<String> propertyList) {
        String id = modified.path().keyString("InstanceID");
        CimBackend.Vm vm = vmOfSetting(ctx, id);
        CimInstance rasd = selected(modified, propertyList);
        CimInstance withId = new CimInstance(modified.className(), null, withInstanceId(rasd, id));
        redefine(ctx, vm, guarded(vm.spec(), s -> applyResource(s, withId, Mode.MODIFY)));
    }

    static void deleteResourceInstance(CallContext ctx, CimObjectPath path) {
        String id = path.keyString("InstanceID");
        CimBackend.Vm vm = vmOfSetting(ctx, id);
        redefine(ctx, vm, remove(vm.spec(), id));
    }

    private static List<CimProperty> withInstanceId(CimInstance i, String id) {
        List<CimProperty> props = new ArrayList<>();
        for (CimProperty p : i.properties()) {
            if (!p.name().equalsIgnoreCase("InstanceID")) {
                props.add(p);
            }
        }
        props.add(new CimProperty("InstanceID", CimType.STRING, false, id, null, false, null, false));
        return props;
    }

    private static CimInstance selected(CimInstance modified, Set<String> propertyList) {
        return propertyList == null ? modified : modified.filter(p -> propertyList.contains(p.name().toLowerCase(Locale.ROOT)));
    }

    // ---- VmSpec <-> settings ----

    private enum Mode { DEFINE, ADD, MODIFY }

    private interface SpecChange {
        VmSpec apply(VmSpec s);
    }

    private static VmSpec guarded(VmSpec s, SpecChange change) {
        try {
            return change.apply(s);
        } catch (IllegalArgumentException e) {
            throw new CimException(CimStatus.INVALID_PARAMETER, e.getMessage());
        }
    }

    private static List<?> list(Object v) {
        if (v == null) {
            throw new CimException(CimStatus.INVALID_PARAMETER, "ResourceSettings is missing");
        }
        return v instanceof List ? (List<?>) v : List.of(v);
    }

    private static void redefine(CallContext ctx, CimBackend.Vm vm, VmSpec spec) {
        if (spec.equals(vm.spec())) {
            return; // nothing changes: fine on a running VM too
        }
        ctx.backend().redefine(vm.name(), spec);
        ctx.changed();
    }

    private static CimBackend.Vm vmOfSetting(CallContext ctx, String instanceId) {
        String name = VirtualSystemProfile.vmFromInstanceId(instanceId);
        if (name == null) {
            throw new CimException(CimStatus.NOT_FOUND, "No such instance: InstanceID '" + instanceId
                    + "' is not one of Ferry's (\"Ferry:<vm>...\")");
        }
        return ctx.vm(name).orElseThrow(() -> new CimException(CimStatus.NOT_FOUND,
                "No such instance (InstanceID): no virtual system '" + name + "'"));
    }

    /** Applies a VSSD's writable properties; modify: the VM exists, so its name may not change. */
    static VmSpec applySystem(VmSpec s, CimInstance vssd, boolean modify) {
        String name = vssd.string("ElementName");
        if (modify && name != null && !name.equals(s.name())) {
            throw new CimException(CimStatus.INVALID_PARAMETER, "renaming a VM (ElementName " + s.name() + " -> " + name
                    + ") is not supported: its name is the key of its ComputerSystem");
        }
        String vsi = vssd.string("VirtualSystemIdentifier");
        if (!modify && vsi != null) {
            try {
                s = s.withId(UUID.fromString(vsi));
            } catch (IllegalArgumentException notAUuid) {
                // a name, as libvirt-cim's clients send it: the id stays generated
            }
        } else if (modify && vsi != null && !vsi.equals(s.id().toString())) {
            throw new CimException(CimStatus.INVALID_PARAMETER, "VirtualSystemIdentifier is read-only (" + s.id() + ")");
        }
        Long recovery = vssd.integer("AutomaticRecoveryAction");
        if (recovery != null) {
            if (recovery != 2 && recovery != 3) {
                throw new CimException(CimStatus.INVALID_PARAMETER, "AutomaticRecoveryAction " + recovery
                        + " is not supported (2 None, 3 Restart)");
            }
            s = s.withHa(recovery == 3 ? VmSpec.HaPolicy.RESTART : VmSpec.HaPolicy.NONE);
        }
        String workload = vssd.string("Workload");
        if (workload != null && !workload.isBlank()) {
            s = s.withWorkload(workload(workload.trim(), s.memoryBytes()));
        }
        String os = vssd.string("GuestOS");
        Map<String, String> meta = s.metadata();
        if (vssd.has("Notes") && vssd.value("Notes") != null) {
            meta = new TreeMap<>();
            for (Object note : (List<?>) vssd.value("Notes")) {
                String n = String.valueOf(note);
                int eq = n.indexOf('=');
                meta.put(eq < 0 ? n : n.substring(0, eq), eq < 0 ? "" : n.substring(eq + 1));
            }
        }
        if (os != null || meta != s.metadata()) {
            s = s.withOs(os != null ? os : s.osType(), meta);
        }
        Long nodes = vssd.integer("GuestNumaNodes");
        Long memPolicy = vssd.integer("NumaMemoryPolicy");
        Long cpuPolicy = vssd.integer("CpuPolicy");
        if (nodes != null || memPolicy != null || cpuPolicy != null) {
            NumaSpec n = s.numa();
            NumaSpec.MemoryMode mm = memPolicy == null ? n.memory() : enumAt(NumaSpec.MemoryMode.values(), memPolicy, "NumaMemoryPolicy");
            NumaSpec.CpuPolicy cp = cpuPolicy == null ? n.cpus() : enumAt(NumaSpec.CpuPolicy.values(), cpuPolicy, "CpuPolicy");
            int gn = nodes == null ? n.guestNodes() : (int) (long) nodes;
            try {
                s = s.withNuma(new NumaSpec(gn, gn == n.guestNodes() ? n.nodes() : List.of(), mm, cp, n.threads(), n.pageSizeKiB(),
                        n.deviceNode()));
            } catch (IllegalArgumentException e) {
                throw new CimException(CimStatus.INVALID_PARAMETER, e.getMessage());
            }
        }
        return s;
    }

    /**
     * A guest workload as JSON ({@code {"program":"pagewalk",...}}, what GetInstance shows) or in the
     * short form the ferry CLI uses, which needs no commas (wbemcli cannot pass them):
     * {@code idle}, {@code pagewalk [rate=MiBps]}, {@code hotset [rate=MiBps] [seed=N]},
     * {@code random [rate=MiBps] [seed=N]}, {@code fill [seed=N]}.
     */
    static Workload workload(String text, long memoryBytes) {
        try {
            if (text.startsWith("{")) {
                return VmSpecJson.read(text.getBytes(StandardCharsets.UTF_8), Workload.class, "Workload", true);
            }
            String[] words = text.split("\\s+");
            double rate = 0;
            long seed = 1;
            for (int i = 1; i < words.length; i++) {
                String[] kv = words[i].split("=", 2);
                if (kv.length != 2 || !(kv[0].equals("rate") || kv[0].equals("seed"))) {
                    throw new IllegalArgumentException("'" + words[i] + "' is not rate=MiBps or seed=N");
                }
                if (kv[0].equals("rate")) {
                    rate = Double.parseDouble(kv[1]);
                } else {
                    seed = Long.parseLong(kv[1]);
                }
            }
            switch (words[0]) {
                case "idle":
                    return new Workload.Idle();
                case "pagewalk":
                    return new Workload.PageWalk(0, 0, rate);
                case "hotset":
                    return new Workload.HotSet(0, Math.max(4096, (memoryBytes / 4) & ~4095L), 1.0, rate, seed);
                case "random":
                    return new Workload.RandomWrites(rate, seed);
                case "fill":
                    return new Workload.Fill(40, 30, seed);
                default:
                    throw new IllegalArgumentException("unknown program '" + words[0] + "' (idle, pagewalk, hotset, random, fill)");
            }
        } catch (RuntimeException e) {
            throw new CimException(CimStatus.INVALID_PARAMETER, "Workload '" + CimObjectPath.abbreviate(text)
                    + "' is not a guest workload: " + e.getMessage());
        }
    }

    private static <E> E enumAt(E[] values, long i, String what) {
        if (i < 0 || i >= values.length) {
            throw new CimException(CimStatus.INVALID_PARAMETER, what + " " + i + " is outside 0.." + (values.length - 1));
        }
        return values[(int) i];
    }

    /** Which resource a RASD describes: by Ferry class, else by ResourceType. */
    private enum Kind { PROCESSOR, MEMORY, DISK, NIC }

    private static Kind kind(CimInstance rasd) {
        switch (rasd.className()) {
            case VirtualSystemProfile.PROC_RASD:
                return Kind.PROCESSOR;
            case VirtualSystemProfile.MEM_RASD:
                return Kind.MEMORY;
            case VirtualSystemProfile.DISK_RASD:
                return Kind.DISK;
            case VirtualSystemProfile.NIC_RASD:
                return Kind.NIC;
            default:
                break;
        }
        Long type = rasd.integer("ResourceType");
        if (type == null) {
            String id = rasd.string("InstanceID");
            if (id != null && id.startsWith(VirtualSystemProfile.PREFIX)) {
                String rest = id.substring(id.indexOf('/') + 1);
                if (rest.equals("proc")) {
                    return Kind.PROCESSOR;
                }
                if (rest.equals("mem")) {
                    return Kind.MEMORY;
                }
                if (rest.startsWith("disk/")) {
                    return Kind.DISK;
                }
                if (rest.startsWith("nic/")) {
                    return Kind.NIC;
                }
            }
            throw new CimException(CimStatus.INVALID_PARAMETER, rasd.className() + " without a ResourceType");
        }
        switch ((int) (long) type) {
            case 3:
                return Kind.PROCESSOR;
            case 4:
                return Kind.MEMORY;
            case 10:
            case 33:
                return Kind.NIC;
            case 17:
            case 19:
            case 31:
            case 32:
                return Kind.DISK;
            default:
                throw new CimException(CimStatus.INVALID_PARAMETER, "ResourceType " + type
                        + " is not supported (3 Processor, 4 Memory, 10 Ethernet Adapter, 17 Disk Drive)");
        }
    }

    /** The device name a RASD's InstanceID gives ("Ferry:vm/disk/root" -> "root"), or null. */
    private static String deviceName(String id, String kind) {
        if (id == null) {
            return null;
        }
        int at = id.indexOf("/" + kind + "/");
        return at < 0 ? null : id.substring(at + kind.length() + 2);
    }

    private static VmSpec applyResource(VmSpec s, CimInstance rasd, Mode mode) {
        Kind k = kind(rasd);
        String id = rasd.string("InstanceID");
        switch (k) {
            case PROCESSOR: {
                if (mode == Mode.ADD) {
                    throw new CimException(CimStatus.INVALID_PARAMETER, "a VM has one processor setting: change it with ModifyResourceSettings");
                }
                Long q = rasd.integer("VirtualQuantity");
                return q == null ? s : s.withSize(checkedInt(q, "processor VirtualQuantity"), s.memoryBytes());
            }
            case MEMORY: {
                if (mode == Mode.ADD) {
                    throw new CimException(CimStatus.INVALID_PARAMETER, "a VM has one memory setting: change it with ModifyResourceSettings");
                }
                Long q = rasd.integer("VirtualQuantity");
                if (q == null) {
                    return s;
                }
                String units = rasd.string("AllocationUnits") != null ? rasd.string("AllocationUnits") : rasd.string("VirtualQuantityUnits");
                return s.withSize(s.vcpus(), Math.multiplyExact(q, unit(units, 1L << 20)));
            }
            case DISK: {
                List<DiskSpec> disks = new ArrayList<>(s.disks());
                String name = deviceName(id, "disk");
                int at = indexOfDisk(disks, name);
                if (mode == Mode.MODIFY && at < 0) {
                    throw new CimException(CimStatus.NOT_FOUND, "No such instance: VM " + s.name() + " has no disk '" + name + "'");
                }
                DiskSpec old = at < 0 ? null : disks.get(at);
                if (name == null) {
                    name = rasd.string("ElementName") != null ? rasd.string("ElementName") : "disk" + disks.size();
                }
                List<?> hr = (List<?>) rasd.value("HostResource");
                String path = hr != null && !hr.isEmpty() ? String.valueOf(hr.get(0)) : old != null ? old.path() : null;
                if (path == null) {
                    throw new CimException(CimStatus.INVALID_PARAMETER, "disk " + name + " needs HostResource[0]: its image path");
                }
                Long q = rasd.integer("VirtualQuantity");
                long capacity = q != null ? Math.multiplyExact(q, unit(rasd.string("AllocationUnits"), 1)) : old != null ? old.capacityBytes() : 0;
                String format = rasd.has("Format") && rasd.string("Format") != null ? rasd.string("Format") : old != null ? old.format() : null;
                String bus = rasd.has("Bus") && rasd.string("Bus") != null ? rasd.string("Bus") : old != null ? old.bus() : null;
                Object ro = rasd.value("ReadOnly");
                boolean readOnly = ro instanceof Boolean ? (Boolean) ro : old != null && old.readOnly();
                DiskSpec d = new DiskSpec(name, path, capacity, format, bus, readOnly);
                if (at >= 0 && mode != Mode.ADD) {
                    disks.set(at, d);
                } else {
                    disks.add(d);
                }
                return s.withDevices(disks, s.nics());
            }
            default: {
                List<NicSpec> nics = new ArrayList<>(s.nics());
                String name = deviceName(id, "nic");
                int at = indexOfNic(nics, name);
                if (mode == Mode.MODIFY && at < 0) {
                    throw new CimException(CimStatus.NOT_FOUND, "No such instance: VM " + s.name() + " has no NIC '" + name + "'");
                }
                NicSpec old = at < 0 ? null : nics.get(at);
                if (name == null) {
                    name = rasd.string("ElementName") != null ? rasd.string("ElementName") : "nic" + nics.size();
                }
                List<?> conn = (List<?>) rasd.value("Connection");
                String network = conn != null && !conn.isEmpty() ? String.valueOf(conn.get(0)) : old != null ? old.network() : "default";
                String mac = rasd.string("Address") != null ? rasd.string("Address") : old != null ? old.mac() : null;
                String model = rasd.string("ResourceSubType") != null ? rasd.string("ResourceSubType") : old != null ? old.model() : null;
                NicSpec n = new NicSpec(name, network, mac, model);
                if (at >= 0 && mode != Mode.ADD) {
                    nics.set(at, n);
                } else {
                    nics.add(n);
                }
                return s.withDevices(s.disks(), nics);
            }
        }
    }

    private static VmSpec remove(VmSpec s, String id) {
        String disk = deviceName(id, "disk");
        String nic = deviceName(id, "nic");
        if (disk != null) {
            List<DiskSpec> disks = new ArrayList<>(s.disks());
            int at = indexOfDisk(disks, disk);
            if (at < 0) {
                throw new CimException(CimStatus.NOT_FOUND, "No such instance: VM " + s.name() + " has no disk '" + disk + "'");
            }
            disks.remove(at);
            return s.withDevices(disks, s.nics());
        }
        if (nic != null) {
            List<NicSpec> nics = new ArrayList<>(s.nics());
            int at = indexOfNic(nics, nic);
            if (at < 0) {
                throw new CimException(CimStatus.NOT_FOUND, "No such instance: VM " + s.name() + " has no NIC '" + nic + "'");
            }
            nics.remove(at);
            return s.withDevices(s.disks(), nics);
        }
        throw new CimException(CimStatus.INVALID_PARAMETER, "only disks and NICs can be removed, not " + id);
    }

    private static int indexOfDisk(List<DiskSpec> disks, String name) {
        for (int i = 0; i < disks.size(); i++) {
            if (disks.get(i).name().equals(name)) {
                return i;
            }
        }
        return -1;
    }

    private static int indexOfNic(List<NicSpec> nics, String name) {
        for (int i = 0; i < nics.size(); i++) {
            if (nics.get(i).name().equals(name)) {
                return i;
            }
        }
        return -1;
    }

    private static CimObjectPath resultingPath(String vm, VmSpec before, VmSpec after) {
        if (after.disks().size() > before.disks().size()) {
            return rasdPath(VirtualSystemProfile.diskRasdId(vm, after.disks().get(after.disks().size() - 1).name()));
        }
        return rasdPath(VirtualSystemProfile.nicRasdId(vm, after.nics().get(after.nics().size() - 1).name()));
    }

    static CimObjectPath rasdPath(String id) {
        String cls = id.endsWith("/proc") ? VirtualSystemProfile.PROC_RASD : id.endsWith("/mem") ? VirtualSystemProfile.MEM_RASD
                : id.contains("/disk/") ? VirtualSystemProfile.DISK_RASD : VirtualSystemProfile.NIC_RASD;
        return CimObjectPath.builder(VIRTUALIZATION, cls).key("InstanceID", id).build();
    }

    private static int checkedInt(long v, String what) {
        if (v < 1 || v > VmSpec.MAX_VCPUS) {
            throw new CimException(CimStatus.INVALID_PARAMETER, what + " " + v + " is outside 1.." + VmSpec.MAX_VCPUS);
        }
        return (int) v;
    }

    /** Bytes per unit of a DSP0004 programmatic unit ("byte*2^20") or the names clients use ("KiloBytes", "MB"). */
    static long unit(String units, long dflt) {
        if (units == null || units.isBlank()) {
            return dflt;
        }
        String u = units.trim().toLowerCase(Locale.ROOT).replace(" ", "");
        switch (u) {
            case "byte":
            case "bytes":
            case "b":
                return 1;
            case "byte*2^10":
            case "kilobytes":
            case "kilobyte":
            case "kb":
            case "kib":
                return 1L << 10;
            case "byte*2^20":
            case "megabytes":
            case "megabyte":
            case "mb":
            case "mib":
                return 1L << 20;
            case "byte*2^30":
            case "gigabytes":
            case "gigabyte":
            case "gb":
            case "gib":
                return 1L << 30;
            default:
                throw new CimException(CimStatus.INVALID_PARAMETER, "AllocationUnits '" + units
                        + "' is not supported (byte, byte*2^10, byte*2^20, byte*2^30)");
        }
    }
}
