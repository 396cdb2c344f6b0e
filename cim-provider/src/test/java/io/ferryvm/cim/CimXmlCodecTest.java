package io.ferryvm.cim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CimXmlCodecTest {
    private static XmlTree.Node parse(String xml) throws XmlTree.MalformedXml {
        return XmlTree.parse(xml.getBytes(StandardCharsets.UTF_8), XmlTree.Limits.DEFAULT);
    }

    @Test
    void intrinsicRequestsDecodeWithTheirParameters() throws Exception {
        CimRequest r = CimXmlReader.request(parse(RawClient.intrinsicBody("GetInstance", "root/virtualization",
                RawClient.iparam("InstanceName", "<INSTANCENAME CLASSNAME=\"Ferry_ComputerSystem\">"
                        + "<KEYBINDING NAME=\"CreationClassName\"><KEYVALUE VALUETYPE=\"string\">Ferry_ComputerSystem</KEYVALUE></KEYBINDING>"
                        + "<KEYBINDING NAME=\"Name\"><KEYVALUE>vm&amp;1</KEYVALUE></KEYBINDING></INSTANCENAME>")
                        + RawClient.value("LocalOnly", "false"))));
        assertTrue(r.intrinsic());
        assertEquals("GetInstance", r.method());
        assertEquals("root/virtualization", r.namespace());
        CimObjectPath p = (CimObjectPath) CimXmlReader.rawValue(r.intrinsicParams().get("instancename"));
        assertEquals("vm&1", p.key("name"));
        assertEquals("false", CimXmlReader.rawValue(r.intrinsicParams().get("localonly")));
    }

    @Test
    void keyValuesKeepTheirTypes() throws Exception {
        CimObjectPath p = CimXmlReader.instanceName(parse("<INSTANCENAME CLASSNAME=\"X\">"
                + "<KEYBINDING NAME=\"A\"><KEYVALUE VALUETYPE=\"numeric\">-5</KEYVALUE></KEYBINDING>"
                + "<KEYBINDING NAME=\"B\"><KEYVALUE VALUETYPE=\"boolean\">TRUE</KEYVALUE></KEYBINDING>"
                + "<KEYBINDING NAME=\"C\"><KEYVALUE VALUETYPE=\"string\" TYPE=\"uint16\">7</KEYVALUE></KEYBINDING>"
                + "<KEYBINDING NAME=\"D\"><VALUE.REFERENCE><INSTANCEPATH><NAMESPACEPATH><HOST>h:1</HOST><LOCALNAMESPACEPATH>"
                + "<NAMESPACE NAME=\"root\"/><NAMESPACE NAME=\"interop\"/></LOCALNAMESPACEPATH></NAMESPACEPATH>"
                + "<INSTANCENAME CLASSNAME=\"Y\"><KEYBINDING NAME=\"Id\"><KEYVALUE>1</KEYVALUE></KEYBINDING></INSTANCENAME>"
                + "</INSTANCEPATH></VALUE.REFERENCE></KEYBINDING></INSTANCENAME>"));
        assertEquals(-5L, p.key("A"));
        assertEquals(Boolean.TRUE, p.key("B"));
        assertEquals(7L, p.key("C"));
        CimObjectPath d = (CimObjectPath) p.key("D");
        assertEquals("root/interop", d.namespace());
        assertEquals("h:1", d.host());
        assertEquals("1", d.key("id"));
    }

    @Test
    void writtenInstancesReadBackEqual() throws Exception {
        CimInstance embedded = new CimInstance("Ferry_ComputerSystem", null, List.of(
                new CimProperty("Name", CimType.STRING, false, "a<b>&\"c\"", null, false, null, false)));
        CimObjectPath ref = CimObjectPath.builder("root/interop", "Ferry_RegisteredProfile").key("InstanceID", "CIM:DSP1042").build();
        CimInstance i = new CimInstance("T", null, List.of(
                new CimProperty("S", CimType.STRING, false, "tab\tnew\nline \u00e9\u4e2d", null, false, "T", false),
                new CimProperty("N", CimType.SINT64, false, Long.MIN_VALUE, null, false, null, false),
                new CimProperty("R", CimType.REAL64, false, 1.5, null, false, null, false),
                new CimProperty("B", CimType.BOOLEAN, false, Boolean.FALSE, null, false, null, false),
                new CimProperty("A", CimType.UINT16, true, java.util.Arrays.asList(1L, null, 3L), null, false, null, false),
                new CimProperty("Ref", CimType.REFERENCE, false, ref, "CIM_RegisteredProfile", false, null, false),
                new CimProperty("E", CimType.STRING, false, embedded, null, true, null, false),
                new CimProperty("Nul", CimType.STRING, false, null, null, false, null, false)));
        StringBuilder b = new StringBuilder();
        new CimXmlWriter(b, "server:5988").instance(i, true);
        CimInstance back = CimXmlReader.instance(parse(b.toString()));
        assertEquals("tab\tnew\nline \u00e9\u4e2d", back.value("S"));
        assertEquals(Long.MIN_VALUE, back.value("N"));
        assertEquals(1.5, back.value("R"));
        assertEquals(Boolean.FALSE, back.value("B"));
        assertEquals(java.util.Arrays.asList(1L, null, 3L), back.value("A"));
        assertEquals(ref, back.value("Ref"));
        assertEquals("server:5988", ((CimObjectPath) back.value("Ref")).host());
        assertTrue(back.property("E").embedded());
        CimInstance e = CimXmlReader.instance(parse((String) back.value("E")));
        assertEquals("a<b>&\"c\"", e.value("Name"));
        assertEquals(null, back.value("Nul"));
        assertTrue(b.toString().contains("CLASSORIGIN=\"T\""));
    }

    @Test
    void uppercaseEmbeddedObjectMarkerIsAccepted() throws Exception {
        CimInstance i = CimXmlReader.instance(parse("<INSTANCE CLASSNAME=\"X\"><PROPERTY NAME=\"P\" TYPE=\"string\" EMBEDDEDOBJECT=\"object\">"
                + "<VALUE>&lt;INSTANCE CLASSNAME=&quot;Y&quot;/&gt;</VALUE></PROPERTY></INSTANCE>"));
        assertTrue(i.property("P").embedded());
        assertEquals("<INSTANCE CLASSNAME=\"Y\"/>", i.value("P"));
    }

    @Test
    void objectPathsParseAndPrintLikeWbemcli() {
        CimObjectPath p = CimObjectPath.parse("127.0.0.1:5988/root/virtualization:Ferry_ComputerSystem."
                + "CreationClassName=\"Ferry_ComputerSystem\",Name=\"vm \\\"1\\\"\"");
        assertEquals("127.0.0.1:5988", p.host());
        assertEquals("root/virtualization", p.namespace());
        assertEquals("vm \"1\"", p.key("Name"));
        assertEquals(p, CimObjectPath.parse(p.toString()));
        CimObjectPath q = CimObjectPath.parse("//h/root/interop:Ferry_ReferencedProfile.Antecedent=\"root/interop:Ferry_RegisteredProfile.InstanceID=\\\"a\\\"\",N=3,B=true");
        assertEquals(3L, q.key("n"));
        assertEquals(Boolean.TRUE, q.key("B"));
        assertTrue(CimObjectPath.keyValueEquals(q.key("Antecedent"),
                CimObjectPath.builder("root/interop", "Ferry_RegisteredProfile").key("InstanceID", "a").build()));
        assertEquals(CimObjectPath.parse("root/x:Cls.A=\"1\",B=\"2\""), CimObjectPath.parse("ROOT/X:cls.b=\"2\",a=\"1\""));
        assertNotEquals(CimObjectPath.parse("root/x:Cls.A=\"1\""), CimObjectPath.parse("root/x:Cls.A=\"1\",B=\"2\""));
        for (String bad : List.of("", "root/x:Cls.A=", "root/x:Cls.A=\"1", "root/x:9Cls", "Cls.=\"1\"", "Cls.A=\"1\"B=\"2\"")) {
            assertThrows(CimException.class, () -> CimObjectPath.parse(bad), bad);
        }
    }

    @Test
    void envelopesDtdsAndStructureAreRefusedAtTheHttpLevel() throws Exception {
        Map<String, String> cases = Map.of(
                "<CIM CIMVERSION=\"3.0\" DTDVERSION=\"2.0\"><MESSAGE ID=\"1\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ/></MESSAGE></CIM>",
                "unsupported-cim-version",
                "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"1.0\"><MESSAGE ID=\"1\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ/></MESSAGE></CIM>",
                "unsupported-dtd-version",
                "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE ID=\"1\" PROTOCOLVERSION=\"2.0\"><SIMPLEREQ/></MESSAGE></CIM>",
                "unsupported-protocol-version",
                "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE ID=\"1\" PROTOCOLVERSION=\"1.0\"><MULTIREQ/></MESSAGE></CIM>",
                "multiple-requests-unsupported",
                "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE ID=\"1\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"X\"/>"
                        + "</SIMPLEREQ></MESSAGE></CIM>", "request-not-valid",
                "<NOTCIM/>", "request-not-valid");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            HttpRefusal e = assertThrows(HttpRefusal.class, () -> CimXmlReader.request(parse(c.getKey())), c.getKey());
            assertEquals(c.getValue(), e.cimError(), c.getKey());
        }
    }

    @Test
    void theXmlReaderRefusesDtdsEntitiesAndDepth() {
        List<String> hostile = List.of(
                "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;\">]><CIM>&lol2;</CIM>",
                "<?xml version=\"1.0\"?><!DOCTYPE x SYSTEM \"file:///etc/passwd\"><CIM/>",
                "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><CIM>&xxe;</CIM>",
                "<CIM>&undeclared;</CIM>",
                "<A>".repeat(200) + "</A>".repeat(200),
                "<CIM><A/></CIM><B/>",
                "<CIM",
                "");
        for (String h : hostile) {
            assertThrows(XmlTree.MalformedXml.class, () -> parse(h), h.length() > 80 ? h.substring(0, 80) : h);
        }
    }

    @Test
    void limitsBoundElementsAndText() {
        XmlTree.Limits small = new XmlTree.Limits(8, 100, 4, 1000);
        assertThrows(XmlTree.MalformedXml.class, () -> XmlTree.parse("<A>" + "<B/>".repeat(200) + "</A>", small));
        assertThrows(XmlTree.MalformedXml.class, () -> XmlTree.parse("<A>" + "x".repeat(2000) + "</A>", small));
        assertThrows(XmlTree.MalformedXml.class, () -> XmlTree.parse("<A a=\"1\" b=\"1\" c=\"1\" d=\"1\" e=\"1\"/>", small));
    }
}
