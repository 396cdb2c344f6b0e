package io.ferryvm.cim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.ferryvm.core.VmSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded corruption of valid CIM-XML requests (and of the embedded instances inside them): the decoder
 * fails only with its own errors, and the server answers every mutant with a CIM error or a 4xx/501,
 * never a 500, and keeps serving. A failing seed reproduces with the printed number.
 */
class HostileCimXmlTest {
    private static final long SEED = 0xFE44_C1A1L;
    @TempDir
    static Path dir;
    static TestServer server;
    static RawClient c;

    @BeforeAll
    static void start() {
        InMemoryBackend b = new InMemoryBackend("host1", "host2");
        b.define(VmSpec.of("vm1", 1, 64L << 20, null), "host1");
        server = new TestServer(dir, b);
        c = RawClient.admin(server);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static final String V = "root/virtualization";

    private static List<String> corpus() {
        CimObjectPath vm = VirtualSystemProfile.csPath("vm1");
        List<String> out = new ArrayList<>();
        out.add(RawClient.intrinsicBody("GetInstance", V, RawClient.iparam("InstanceName", RawClient.instanceName(vm))
                + RawClient.iparam("PropertyList", "<VALUE.ARRAY><VALUE>Name</VALUE><VALUE.NULL/></VALUE.ARRAY>")));
        out.add(RawClient.intrinsicBody("EnumerateInstances", V, RawClient.className("ClassName", "CIM_ComputerSystem")
                + RawClient.value("DeepInheritance", "FALSE")));
        out.add(RawClient.intrinsicBody("Associators", V, RawClient.iparam("ObjectName", RawClient.instanceName(vm))
                + RawClient.className("AssocClass", "CIM_SystemDevice") + RawClient.value("Role", "GroupComponent")));
        out.add(RawClient.intrinsicBody("ExecQuery", V, RawClient.value("QueryLanguage", "WQL")
                + RawClient.value("Query", "SELECT * FROM Ferry_ComputerSystem WHERE Name = 'vm1' AND NOT EnabledState <> 3")));
        out.add(RawClient.envelope("<METHODCALL NAME=\"DefineSystem\"><LOCALINSTANCEPATH>" + RawClient.lnp(V)
                + RawClient.instanceName(HostProfile.vsmsPath("host2")) + "</LOCALINSTANCEPATH>"
                + RawClient.param("SystemSettings", "<INSTANCE CLASSNAME=\"Ferry_VirtualSystemSettingData\"><PROPERTY NAME=\"ElementName\" "
                        + "TYPE=\"string\"><VALUE>fz</VALUE></PROPERTY></INSTANCE>")
                + RawClient.arrayParam("ResourceSettings", "instance of Ferry_MemoryAllocationSettingData { VirtualQuantity = 64; "
                        + "HostResource = {\"a\", \"b\"}; };") + "</METHODCALL>"));
        out.add(RawClient.envelope("<METHODCALL NAME=\"RequestStateChange\"><LOCALINSTANCEPATH>" + RawClient.lnp(V)
                + RawClient.instanceName(vm) + "</LOCALINSTANCEPATH>" + RawClient.param("RequestedState", "3") + "</METHODCALL>"));
        out.add(RawClient.intrinsicBody("CreateInstance", "root/interop", RawClient.iparam("NewInstance",
                "<INSTANCE CLASSNAME=\"CIM_IndicationFilter\"><PROPERTY NAME=\"Query\" TYPE=\"string\"><VALUE>SELECT * FROM "
                        + "CIM_InstCreation</VALUE></PROPERTY><PROPERTY NAME=\"QueryLanguage\" TYPE=\"string\"><VALUE>WQL</VALUE>"
                        + "</PROPERTY></INSTANCE>")));
        return out;
    }

    private static final String[] INSERTS = {"<", ">", "&", "&amp;", "&#0;", "&#x110000;", "<!DOCTYPE x [<!ENTITY a \"b\">]>", "&a;",
        "<VALUE>", "</VALUE>", "<KEYBINDING NAME=\"X\">", "\"", "'", "]]>", "<![CDATA[", "\u0000", "\uFFFF", "%", "\\", "{", "}", ";",
        "instance of", "=", "NAME=\"\"", "CLASSNAME=\"9\"", "<VALUE.ARRAY>", "<INSTANCE CLASSNAME=\"Ferry_ComputerSystem\">",
        "EmbeddedObject=\"instance\"", "\u00e9", "\ud800"};

    static String mutate(String s, Random r) {
        StringBuilder b = new StringBuilder(s);
        int n = 1 + r.nextInt(4);
        for (int k = 0; k < n && b.length() > 0; k++) {
            int at = r.nextInt(b.length());
            switch (r.nextInt(6)) {
                case 0 -> b.setCharAt(at, (char) r.nextInt(128));
                case 1 -> b.delete(at, Math.min(b.length(), at + 1 + r.nextInt(20)));
                case 2 -> {
                    int end = Math.min(b.length(), at + 1 + r.nextInt(60));
                    b.insert(at, b.substring(at, end));
                }
                case 3 -> b.insert(at, INSERTS[r.nextInt(INSERTS.length)]);
                case 4 -> b.setLength(at);
                default -> {
                    int j = r.nextInt(b.length());
                    char ch = b.charAt(at);
                    b.setCharAt(at, b.charAt(j));
                    b.setCharAt(j, ch);
                }
            }
        }
        return b.toString();
    }

    @Test
    void theDecoderFailsOnlyWithItsOwnErrors() {
        ClassRepository repo = ClassRepository.load();
        Random r = new Random(SEED);
        List<String> corpus = corpus();
        int decoded = 0;
        for (int i = 0; i < 4000; i++) {
            String m = mutate(corpus.get(i % corpus.size()), r);
            try {
                CimRequest req = CimXmlReader.request(XmlTree.parse(m.getBytes(StandardCharsets.UTF_8), XmlTree.Limits.DEFAULT));
                for (XmlTree.Node p : req.intrinsicParams().values()) {
                    CimXmlReader.rawValue(p);
                }
                for (XmlTree.Node p : req.extrinsicParams()) {
                    Object v = CimXmlReader.rawValue(p);
                    for (Object item : v instanceof List ? (List<?>) v : List.of(v == null ? "" : v)) {
                        if (item instanceof String || item instanceof CimInstance) {
                            try {
                                Embedded.parse(item, repo, V, null);
                            } catch (CimException expected) {
                                assertEquals(CimStatus.FAILED, expected.status());
                            }
                        }
                    }
                }
                decoded++;
            } catch (XmlTree.MalformedXml | HttpRefusal | CimException expected) {
                // refused as it should be
            } catch (RuntimeException e) {
                fail("mutant " + i + " of seed " + SEED + " threw " + e + ":\n" + m, e);
            }
        }
        assertTrue(decoded > 100, "some mutants still decode: " + decoded);
    }

    @Test
    void theServerAnswersEveryMutantAndKeepsServing() {
        Random r = new Random(SEED ^ 1);
        List<String> corpus = corpus();
        Set<Integer> allowed = Set.of(200, 400, 501);
        for (int i = 0; i < 300; i++) {
            int which = i % corpus.size();
            String m = mutate(corpus.get(which), r);
            String method = which == 4 ? "DefineSystem" : which == 5 ? "RequestStateChange" : null;
            java.util.Map<String, String> h = method == null ? RawClient.headers(methodOf(corpus.get(which)), which == 6 ? "root/interop" : V)
                    : RawClient.headers(method, which == 4 ? HostProfile.vsmsPath("host2").toString() : VirtualSystemProfile.csPath("vm1").toString());
            RawClient.Answer a = c.send("POST", h, m.getBytes(StandardCharsets.UTF_8));
            int status = a.status();
            assertTrue(allowed.contains(status), "mutant " + i + " got HTTP " + status + ": " + a.body() + "\n" + m);
            if (status == 200) {
                a.response(); // parsed: a well-formed answer
            }
        }
        RawClient.Answer ok = c.call("EnumerateInstanceNames", V, RawClient.className("ClassName", "Ferry_ComputerSystem"));
        assertTrue(ok.returned().size() >= 1);
    }

    private static String methodOf(String body) {
        int at = body.indexOf("IMETHODCALL NAME=\"") + 18;
        return body.substring(at, body.indexOf('"', at));
    }
}
