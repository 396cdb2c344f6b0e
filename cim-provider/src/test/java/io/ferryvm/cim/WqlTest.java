package io.ferryvm.cim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class WqlTest {
    private static final ClassRepository REPO = ClassRepository.load();
    private static final CimInstance VM = new CimInstance("Ferry_ComputerSystem", null, List.of(
            new CimProperty("Name", CimType.STRING, false, "web-1", null, false, null, false),
            new CimProperty("EnabledState", CimType.UINT16, false, 2L, null, false, null, false),
            new CimProperty("HostName", CimType.STRING, false, null, null, false, null, false)));
    private static final CimInstance INDICATION = new CimInstance("Ferry_ComputerSystemModifiedIndication", null, List.of(
            new CimProperty("SourceInstance", CimType.STRING, false, VM, null, true, null, false)));

    private static boolean matches(String where, CimInstance i) {
        return Wql.parse("SELECT * FROM CIM_ManagedElement WHERE " + where).matches(i, REPO, Names.VIRTUALIZATION);
    }

    @Test
    void predicatesCompareTypedValues() {
        assertTrue(matches("EnabledState = 2", VM));
        assertTrue(matches("EnabledState >= 2 AND EnabledState < 3", VM));
        assertTrue(matches("EnabledState <> 3 AND NOT EnabledState = 9", VM));
        assertTrue(matches("Name = 'web-1' OR EnabledState = 9", VM));
        assertTrue(matches("Name LIKE 'web%' AND Name LIKE 'we_-1'", VM));
        assertTrue(matches("HostName IS NULL AND Name IS NOT NULL", VM));
        assertFalse(matches("HostName = 'host1'", VM), "a comparison with NULL is not true");
        assertFalse(matches("NOT HostName = 'host1'", VM), "nor is its negation");
        assertTrue(matches("(EnabledState = 3 OR EnabledState = 2) AND Name != \"db\"", VM));
    }

    @Test
    void embeddedInstancesAreReachable() {
        assertTrue(matches("SourceInstance ISA Ferry_ComputerSystem AND SourceInstance.EnabledState = 2", INDICATION));
        assertFalse(matches("SourceInstance ISA Ferry_HostSystem", INDICATION));
        assertTrue(matches("SourceInstance ISA CIM_System", INDICATION));
    }

    @Test
    void selectListsAndClasses() {
        Wql.Query q = Wql.parse("select Name, EnabledState from Ferry_ComputerSystem");
        assertEquals(List.of("Name", "EnabledState"), q.select());
        assertEquals("Ferry_ComputerSystem", q.className());
        assertNull(q.where());
    }

    @Test
    void malformedQueriesAreInvalidQueries() {
        for (String bad : List.of("", "SELECT", "SELECT * FROM", "SELECT * FROM X WHERE", "SELECT * FROM X WHERE A = ",
                "SELECT * FROM X WHERE A = 'open", "SELECT * FROM X WHERE (A = 1", "SELECT * FROM X Y", "DELETE FROM X",
                "SELECT * FROM X WHERE A ! 1", "SELECT * FROM X WHERE " + "(".repeat(100) + "A = 1" + ")".repeat(100),
                "SELECT * FROM X WHERE A = 1" + " AND A = 1".repeat(2000))) {
            CimException e = assertThrows(CimException.class, () -> Wql.parse(bad), bad.length() > 60 ? bad.substring(0, 60) : bad);
            assertEquals(CimStatus.INVALID_QUERY, e.status());
        }
    }
}
