package io.ferryvm.cim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ClassRepositoryTest {
    private static final ClassRepository REPO = ClassRepository.load();

    @Test
    void inheritanceIsResolvedOnce() {
        CimClass cs = REPO.get(Names.VIRTUALIZATION, "Ferry_ComputerSystem");
        assertEquals("CIM_ComputerSystem", cs.superclass());
        assertEquals(List.of("CreationClassName", "Name"), cs.keys().stream().map(CimClass.Property::name).toList());
        CimClass.Property name = cs.property("name");
        assertEquals("CIM_System", name.classOrigin(), "the key override in CIM_System is where Name comes from");
        assertTrue(name.propagated());
        assertEquals("Ferry_ComputerSystem", cs.property("UUID").classOrigin());
        CimClass.Method rsc = cs.method("RequestStateChange");
        assertEquals("CIM_EnabledLogicalElement", rsc.classOrigin());
        assertEquals(CimType.UINT16, rsc.parameter("RequestedState").type());
        assertEquals("Enabled", CimClass.valueName(cs.property("EnabledState"), 2));
        assertTrue(REPO.isA(Names.VIRTUALIZATION, "Ferry_ComputerSystem", "cim_managedelement"));
        assertFalse(REPO.isA(Names.VIRTUALIZATION, "CIM_ComputerSystem", "Ferry_ComputerSystem"));
    }

    @Test
    void associationsAndIndicationsPropagateTheirQualifierButNotAbstract() {
        CimClass sd = REPO.get(Names.VIRTUALIZATION, "Ferry_SystemDevice");
        assertTrue(sd.isAssociation());
        assertFalse(sd.isAbstract());
        assertEquals("CIM_LogicalDevice", sd.property("PartComponent").referenceClass());
        assertTrue(sd.property("PartComponent").isKey(), "Key comes from CIM_Component");
        assertTrue(REPO.get(Names.VIRTUALIZATION, "Ferry_ComputerSystemCreatedIndication").isIndication());
        assertTrue(REPO.get(Names.VIRTUALIZATION, "CIM_Dependency").isAbstract());
    }

    @Test
    void namespacesServeTheirOwnClasses() {
        assertNotNull(REPO.find(Names.INTEROP, "Ferry_RegisteredProfile"));
        assertNull(REPO.find(Names.INTEROP, "Ferry_ComputerSystem"));
        assertNull(REPO.find(Names.VIRTUALIZATION, "Ferry_RegisteredProfile"));
        assertNotNull(REPO.find(Names.VIRTUALIZATION, "Ferry_ElementConformsToProfile"));
        assertNotNull(REPO.find(Names.INTEROP, "Ferry_ElementConformsToProfile"));
        List<String> roots = REPO.subclasses(Names.VIRTUALIZATION, null, false).stream().map(CimClass::name).toList();
        assertTrue(roots.containsAll(List.of("CIM_ManagedElement", "CIM_Dependency", "CIM_Indication")), roots.toString());
    }

    @Test
    void everyConcreteFerryClassHasAProviderAndEveryProviderAConcreteClass() {
        InMemoryBackend backend = new InMemoryBackend("host1");
        List<Provider> providers = new ArrayList<>();
        VirtualSystemProfile.register(providers);
        HostProfile.register(providers);
        MigrationProfile.register(providers);
        ProfileRegistration.register(providers);
        new Subscriptions(new ListenerPolicy(List.of()), "ferry").register(providers);
        Services services = new Services(REPO, backend, new RequestedStates(), null, null, java.time.Clock.systemUTC());
        new Operations(services, providers, new PullContexts(java.time.Clock.systemUTC())); // refuses abstract or duplicate providers
        for (String ns : REPO.namespaceNames()) {
            Set<String> served = providers.stream().filter(p -> p.namespace().equals(ns)).map(p -> p.className().toLowerCase())
                    .collect(Collectors.toSet());
            for (CimClass c : REPO.all(ns)) {
                boolean ferry = c.name().startsWith("Ferry_");
                boolean indication = c.isIndication();
                if (ferry && !indication) {
                    assertTrue(served.contains(c.lowerName()), c.name() + " in " + ns + " has no provider");
                }
            }
        }
    }
}
