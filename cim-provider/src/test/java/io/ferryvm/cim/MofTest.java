package io.ferryvm.cim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class MofTest {
    private static final ClassRepository REPO = ClassRepository.load();

    @Test
    void instanceDeclarationsTypeAgainstTheirClass() {
        CimInstance i = Embedded.parse("""
                // a comment
                instance of Ferry_DiskAllocationSettingData {
                    ElementName = "root" "disk";   /* adjacent strings concatenate */
                    ResourceType = 17;
                    VirtualQuantity = 0x40000000;
                    HostResource = {"/images/a b.raw", "x\\"y"};
                    ReadOnly = TRUE;
                    Bus = NULL;
                };""", REPO, Names.VIRTUALIZATION, "CIM_ResourceAllocationSettingData");
        assertEquals("Ferry_DiskAllocationSettingData", i.className());
        assertEquals("rootdisk", i.value("ElementName"));
        assertEquals(17L, i.value("ResourceType"));
        assertEquals(1L << 30, i.value("VirtualQuantity"));
        assertEquals(List.of("/images/a b.raw", "x\"y"), i.value("HostResource"));
        assertEquals(Boolean.TRUE, i.value("ReadOnly"));
        assertNull(i.value("Bus"));
    }

    @Test
    void embeddedXmlInstancesAreTypedTheSameWay() {
        CimInstance i = Embedded.parse("<INSTANCE CLASSNAME=\"Ferry_VirtualSystemMigrationSettingData\">"
                + "<PROPERTY NAME=\"MigrationType\" TYPE=\"uint16\"><VALUE>3</VALUE></PROPERTY>"
                + "<PROPERTY NAME=\"DowntimeLimit\"><VALUE>250</VALUE></PROPERTY></INSTANCE>", REPO, Names.VIRTUALIZATION, null);
        assertEquals(3L, i.value("MigrationType"));
        assertEquals(250L, i.value("DowntimeLimit"), "a value without TYPE is typed by the class");
    }

    @Test
    void whatCannotBeParsedIsTheFailureCimtestExpects() {
        for (String bad : List.of("instance of what ever { dd = 3; //\\ ]&", "instance of Ferry_VirtualSystemSettingData { Nope = 1; };",
                "instance of Ferry_VirtualSystemSettingData { ElementName = 5; };",
                "instance of Ferry_ProcessorAllocationSettingData { VirtualQuantity = \"two\"; };",
                "instance of Ferry_ProcessorAllocationSettingData { VirtualQuantity = -1; };",
                "instance of Ferry_ProcessorAllocationSettingData { VirtualQuantity = 1; VirtualQuantity = 2; };",
                "instance of Ferry_ComputerSystem { Name = \"x\"; };", "<INSTANCE CLASSNAME=\"X\"", "",
                "instance of Ferry_VirtualSystemSettingData { ElementName = \"unterminated; };", "<!DOCTYPE x []><INSTANCE/>")) {
            CimException e = assertThrows(CimException.class,
                    () -> Embedded.parse(bad, REPO, Names.VIRTUALIZATION, "CIM_SettingData"), bad);
            assertEquals(CimStatus.FAILED, e.status(), bad);
            assertTrue(e.getMessage().startsWith("Unable to parse embedded object"), e.getMessage());
        }
    }

    @Test
    void embeddedInstancesInsideEmbeddedInstancesStayText() {
        String inner = "instance of Ferry_VirtualSystemSettingData { ElementName = \"inner\"; };";
        CimInstance outer = Embedded.parse("<INSTANCE CLASSNAME=\"Ferry_ComputerSystemCreatedIndication\">"
                + "<PROPERTY NAME=\"SourceInstance\" TYPE=\"string\" EmbeddedObject=\"instance\"><VALUE>" + CimXmlWriter.escape(inner)
                + "</VALUE></PROPERTY></INSTANCE>", REPO, Names.VIRTUALIZATION, "CIM_Indication");
        assertEquals(inner, outer.value("SourceInstance"));
    }

    @Test
    void tokenFloodsAreRefused() {
        String flood = "instance of Ferry_VirtualSystemSettingData { Notes = {" + "\"a\",".repeat(Mof.MAX_TOKENS) + "\"a\"}; };";
        CimException e = assertThrows(CimException.class, () -> Embedded.parse(flood, REPO, Names.VIRTUALIZATION, null));
        assertTrue(e.getMessage().contains("tokens"), e.getMessage());
    }

    @Test
    void classDeclarationsKeepQualifiersMethodsAndDefaults() {
        List<Mof.ClassDecl> decls = Mof.classes("""
                [Abstract, Description ("base")]
                class A_Base { [Key] string Id; uint16 Kind = 2; string Tags[] = {"a", "b"}; };
                [Association]
                class A_Link { [Key] A_Base REF Left; [Key] A_Base REF Right; };
                class A_Thing : A_Base {
                   [ValueMap {"0", "1"}, Values {"Off", "On"}] uint32 Switch([In] uint16 To, [In (false), Out] A_Base REF Job);
                };""");
        assertEquals(3, decls.size());
        assertEquals(2L, decls.get(0).properties().get(1).defaultValue());
        assertEquals(List.of("a", "b"), decls.get(0).properties().get(2).defaultValue());
        CimClass.Method m = decls.get(2).methods().get(0);
        assertEquals(CimType.UINT32, m.returnType());
        assertTrue(m.parameter("To").isIn());
        assertTrue(m.parameter("Job").isOut() && !m.parameter("Job").isIn());
        assertEquals(CimType.REFERENCE, m.parameter("Job").type());
    }
}
