package io.ferryvm.cim;

import static io.ferryvm.cim.Names.INTEROP;
import static io.ferryvm.cim.Names.VIRTUALIZATION;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * DSP1033 Profile Registration in root/interop: the DMTF profiles Ferry implements
 * (Ferry_RegisteredProfile), which autonomous profile references which component profile
 * (Ferry_ReferencedProfile), and the elements that conform to each (Ferry_ElementConformsToProfile,
 * crossing from root/interop to root/virtualization, served in both namespaces).
 */
final class ProfileRegistration {
    static final String PROFILE = "Ferry_RegisteredProfile";
    static final String ECTP = "Ferry_ElementConformsToProfile";

    /** A profile and the function listing the paths of its central (or scoping) instances. */
    private record Profile(String id, String name, String version, Function<CallContext, List<CimObjectPath>> elements) {}

    private static final List<Profile> PROFILES = List.of(
            new Profile("CIM:DSP1033-ProfileRegistration-1.0.0", "Profile Registration", "1.0.0", ctx -> List.of()),
            new Profile("CIM:DSP1042-SystemVirtualization-1.0.0", "System Virtualization", "1.0.0",
                    ctx -> ctx.hosts().stream().map(h -> HostProfile.hostPath(h.name())).toList()),
            new Profile("CIM:DSP1057-VirtualSystem-1.0.0", "Virtual System", "1.0.0",
                    ctx -> ctx.vms().stream().map(v -> VirtualSystemProfile.csPath(v.name())).toList()),
            new Profile("CIM:DSP1081-VirtualSystemMigration-1.0.0", "Virtual System Migration", "1.0.0",
                    ctx -> ctx.hosts().stream().map(h -> MigrationProfile.servicePath(h.name())).toList()),
            new Profile("CIM:DSP1041-ResourceAllocation-1.1.0", "Resource Allocation", "1.1.0", ctx -> pools(ctx, null)),
            new Profile("CIM:DSP1043-AllocationCapabilities-1.0.0", "Allocation Capabilities", "1.0.0", ctx -> {
                List<CimObjectPath> out = new ArrayList<>();
                for (CimBackend.Host h : ctx.hosts()) {
                    for (CimInstance p : HostProfile.pools(ctx, h)) {
                        out.add(CimObjectPath.builder(VIRTUALIZATION, HostProfile.ALLOCATION_CAPABILITIES)
                                .key("InstanceID", p.string("InstanceID")).build());
                    }
                }
                return out;
            }),
            new Profile("CIM:DSP1044-ProcessorResourceVirtualization-1.0.0", "Processor Resource Virtualization", "1.0.0",
                    ctx -> pools(ctx, HostProfile.PROCESSOR_POOL)),
            new Profile("CIM:DSP1045-MemoryResourceVirtualization-1.0.0", "Memory Resource Virtualization", "1.0.0",
                    ctx -> pools(ctx, HostProfile.MEMORY_POOL)),
            new Profile("CIM:DSP1059-GenericDeviceResourceVirtualization-1.0.0", "Generic Device Resource Virtualization", "1.0.0",
                    ctx -> {
                        List<CimObjectPath> out = new ArrayList<>(pools(ctx, HostProfile.DISK_POOL));
                        out.addAll(pools(ctx, HostProfile.NETWORK_POOL));
                        return out;
                    }));

    /** Autonomous profile -> the component profiles it references. */
    private static final List<String[]> REFERENCES = List.of(
            new String[] {"CIM:DSP1042-SystemVirtualization-1.0.0", "CIM:DSP1057-VirtualSystem-1.0.0"},
            new String[] {"CIM:DSP1042-SystemVirtualization-1.0.0", "CIM:DSP1081-VirtualSystemMigration-1.0.0"},
            new String[] {"CIM:DSP1042-SystemVirtualization-1.0.0", "CIM:DSP1041-ResourceAllocation-1.1.0"},
            new String[] {"CIM:DSP1042-SystemVirtualization-1.0.0", "CIM:DSP1043-AllocationCapabilities-1.0.0"},
            new String[] {"CIM:DSP1042-SystemVirtualization-1.0.0", "CIM:DSP1044-ProcessorResourceVirtualization-1.0.0"},
            new String[] {"CIM:DSP1042-SystemVirtualization-1.0.0", "CIM:DSP1045-MemoryResourceVirtualization-1.0.0"},
            new String[] {"CIM:DSP1042-SystemVirtualization-1.0.0", "CIM:DSP1059-GenericDeviceResourceVirtualization-1.0.0"},
            new String[] {"CIM:DSP1057-VirtualSystem-1.0.0", "CIM:DSP1041-ResourceAllocation-1.1.0"});

    private ProfileRegistration() {}

    private static List<CimObjectPath> pools(CallContext ctx, String cls) {
        List<CimObjectPath> out = new ArrayList<>();
        for (CimBackend.Host h : ctx.hosts()) {
            for (CimInstance p : HostProfile.pools(ctx, h)) {
                if ((cls == null && Boolean.TRUE.equals(p.value("Primordial"))) || p.className().equals(cls)) {
                    out.add(p.path());
                }
            }
        }
        return out;
    }

    static CimObjectPath profilePath(String id) {
        return CimObjectPath.builder(INTEROP, PROFILE).key("InstanceID", id).build();
    }

    static void register(List<Provider> out) {
        out.add(SimpleProvider.of(INTEROP, PROFILE, ctx -> {
            List<CimInstance> l = new ArrayList<>();
            for (Profile p : PROFILES) {
                l.add(ctx.instance(INTEROP, PROFILE)
                        .set("InstanceID", p.id())
                        .set("ElementName", p.name())
                        .set("Caption", p.name() + " " + p.version())
                        .set("SpecificationType", 2)
                        .set("RegisteredOrganization", 2)
                        .set("RegisteredName", p.name())
                        .set("RegisteredVersion", p.version())
                        .set("AdvertiseTypes", List.of(2L))
                        .build());
            }
            return l;
        }));
        out.add(SimpleProvider.of(INTEROP, "Ferry_ReferencedProfile", ctx -> {
            List<CimInstance> l = new ArrayList<>();
            for (String[] r : REFERENCES) {
                l.add(ctx.instance(INTEROP, "Ferry_ReferencedProfile").set("Antecedent", profilePath(r[1]))
                        .set("Dependent", profilePath(r[0])).build());
            }
            return l;
        }));
        for (String ns : List.of(INTEROP, VIRTUALIZATION)) {
            out.add(SimpleProvider.of(ns, ECTP, ctx -> conformance(ctx, ns, null))
                    .scope((ctx, target) -> {
                        if (target.className().equalsIgnoreCase(PROFILE)) {
                            return conformance(ctx, ns, target.keyString("InstanceID"));
                        }
                        return null;
                    }));
        }
    }

    private static List<CimInstance> conformance(CallContext ctx, String ns, String onlyProfile) {
        List<CimInstance> out = new ArrayList<>();
        for (Profile p : PROFILES) {
            if (onlyProfile != null && !onlyProfile.equals(p.id())) {
                continue;
            }
            for (CimObjectPath e : p.elements().apply(ctx)) {
                out.add(ctx.instance(ns, ECTP).set("ConformantStandard", profilePath(p.id())).set("ManagedElement", e).build());
            }
        }
        return out;
    }
}
