package io.ferryvm.ovf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ProductSection properties and user values become ovf-env.xml (DSP8027), and an ISO image a real tool reads. */
class OvfEnvironmentTest {
    @TempDir
    Path dir;

    static final String DESCRIPTOR = """
            <?xml version="1.0"?>
            <Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1">
              <References/>
              <DeploymentOptionSection><Info>sizes</Info>
                <Configuration ovf:id="small" ovf:default="true"><Label>S</Label><Description>s</Description></Configuration>
                <Configuration ovf:id="large"><Label>L</Label><Description>l</Description></Configuration>
              </DeploymentOptionSection>
              <VirtualSystem ovf:id="app">
                <Info>x</Info>
                <ProductSection ovf:class="org.example" ovf:instance="1"><Info>p</Info>
                  <Property ovf:key="hostname" ovf:type="string" ovf:qualifiers="MinLen(1),MaxLen(15)" ovf:userConfigurable="true" ovf:value="app"/>
                  <Property ovf:key="workers" ovf:type="uint8" ovf:userConfigurable="true" ovf:value="2">
                    <Value ovf:value="16" ovf:configuration="large"/>
                  </Property>
                  <Property ovf:key="mode" ovf:type="string" ovf:qualifiers="ValueMap{&quot;fast&quot;,&quot;safe&quot;}" ovf:userConfigurable="true" ovf:value="safe"/>
                  <Property ovf:key="debug" ovf:type="boolean" ovf:userConfigurable="true" ovf:value="false"/>
                  <Property ovf:key="serial" ovf:type="string" ovf:value="A-1"/>
                  <Property ovf:key="secret" ovf:type="string" ovf:password="true" ovf:userConfigurable="true"/>
                </ProductSection>
                <VirtualHardwareSection ovf:transport="iso"><Info>hw</Info></VirtualHardwareSection>
              </VirtualSystem>
            </Envelope>
            """;

    private static Envelope envelope() {
        return EnvelopeReader.read(DESCRIPTOR.getBytes(StandardCharsets.UTF_8), "app.ovf").envelope();
    }

    private static Map<String, String> map(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    @Test
    void userValuesDefaultsAndDeploymentOptions() {
        List<OvfEnvironment.Value> v = OvfEnvironment.values(envelope(), "app", map("hostname", "web01", "org.example.secret.1", "s3cret"), null);
        assertEquals(List.of(new OvfEnvironment.Value("org.example.hostname.1", "web01"), new OvfEnvironment.Value("org.example.workers.1", "2"),
                new OvfEnvironment.Value("org.example.mode.1", "safe"), new OvfEnvironment.Value("org.example.debug.1", "false"),
                new OvfEnvironment.Value("org.example.serial.1", "A-1"), new OvfEnvironment.Value("org.example.secret.1", "s3cret")), v);
        List<OvfEnvironment.Value> large = OvfEnvironment.values(envelope(), "app", Map.of(), "large");
        assertEquals("16", large.get(1).value(), "the configuration's Value wins over ovf:value");
    }

    @Test
    void valuesAreCheckedAgainstTypeAndQualifiers() {
        OvfException e = assertThrows(OvfException.class, () -> OvfEnvironment.values(envelope(), "app",
                map("hostname", "a-name-much-longer-than-fifteen", "workers", "300", "mode", "turbo", "debug", "maybe", "serial", "B-2", "nope", "1"),
                null));
        assertEquals(OvfException.Kind.BAD_VALUE, e.kind());
        for (String part : List.of("org.example.hostname.1: 'a-name-much-longer-than-fifteen' is longer than MaxLen(15)",
                "org.example.workers.1: 300 is outside the uint8 range 0..255", "org.example.mode.1: 'turbo' is not one of ValueMap{fast, safe}",
                "org.example.debug.1: 'maybe' is not a boolean", "org.example.serial.1 is not user-configurable",
                "property nope is not declared")) {
            assertTrue(e.getMessage().contains(part), () -> "expected '" + part + "' in " + e.getMessage());
        }
        OvfException d = assertThrows(OvfException.class, () -> OvfEnvironment.values(envelope(), "app", Map.of(), "huge"));
        assertTrue(d.getMessage().contains("deployment option 'huge' is not offered; choose one of [small, large]"), d.getMessage());
    }

    @Test
    void theDocumentIsDsp8027() throws Exception {
        byte[] doc = OvfEnvironment.document(envelope(), "app", map("hostname", "web01"), "large", OvfEnvironment.Platform.FERRY);
        XmlNode root = SecureXml.parse(doc, "ovf-env.xml", Limits.DEFAULT).root();
        assertEquals(Cim.ENV, root.ns());
        assertEquals("Environment", root.name());
        assertEquals("app", root.attr(Cim.ENV, "id"));
        XmlNode props = root.child("PropertySection", List.of(Cim.ENV));
        assertEquals(6, props.children().size());
        assertEquals("web01", props.children().get(0).attr(Cim.ENV, "value"));
        assertEquals("16", props.children().get(1).attr(Cim.ENV, "value"));
        assertEquals("Ferry", root.child("PlatformSection", List.of(Cim.ENV)).child("Kind", List.of(Cim.ENV)).trimmedText());
    }

    @Test
    void theIsoTransportImageReadsBackWithXorriso() throws Exception {
        Tools.require("xorriso");
        byte[] doc = OvfEnvironment.document(envelope(), "app", map("hostname", "web01"), null, OvfEnvironment.Platform.FERRY);
        Path iso = dir.resolve("env.iso");
        OvfEnvironment.writeIso(doc, iso);
        Tools.Run ls = Tools.run("xorriso", "-indev", iso.toString(), "-ls");
        assertEquals(0, ls.exit(), ls.out());
        assertTrue(ls.out().contains("'ovf-env.xml'"), "Joliet name: " + ls.out());
        Path out = dir.resolve("extracted.xml");
        Tools.Run x = Tools.run("xorriso", "-osirrox", "on", "-indev", iso.toString(), "-extract", "/ovf-env.xml", out.toString());
        assertEquals(0, x.exit(), x.out());
        assertArrayEquals(doc, Files.readAllBytes(out));
        String raw = new String(Files.readAllBytes(iso), StandardCharsets.ISO_8859_1);
        assertTrue(raw.contains("OVF_ENV.XML;1"), "the primary volume's ISO level 1 name");
    }

    @Test
    void cloudInitsExampleComesOutOfItsDescriptor() {
        Shared.dir();
        Envelope e = EnvelopeReader.read(Shared.read("canonical/ubuntu-server.ovf"), "ubuntu-server.ovf").envelope();
        String vs = e.virtualSystems().get(0).id();
        byte[] doc = OvfEnvironment.document(e, vs, map("instance-id", "i-abcdefg", "seedfrom", "http://tinyurl.com/sm-"), null,
                OvfEnvironment.Platform.FERRY);
        XmlNode ours = SecureXml.parse(doc, "ours", Limits.DEFAULT).root();
        XmlNode theirs = SecureXml.parse(Shared.read("ovf-env/cloud-init-ovf-env.xml"), "cloud-init", Limits.DEFAULT).root();
        List<String> ourKeys = ours.child("PropertySection", List.of(Cim.ENV)).children().stream().map(p -> p.attr(Cim.ENV, "key")).toList();
        List<String> theirKeys = theirs.child("PropertySection", List.of(Cim.ENV)).children().stream().map(p -> p.attr(Cim.ENV, "key")).toList();
        assertTrue(ourKeys.containsAll(theirKeys), ourKeys + " holds every key of " + theirKeys);
        assertEquals(theirs.ns(), ours.ns());
    }

    @Test
    void aCollectionGivesParentPropertiesAndSiblingEntities() {
        Shared.dir();
        Envelope e = EnvelopeReader.read(Shared.read("vmware/complete_vsc.ovf"), "complete_vsc.ovf").envelope();
        byte[] doc = OvfEnvironment.document(e, "vs1", Map.of(), null, OvfEnvironment.Platform.FERRY);
        XmlNode root = SecureXml.parse(doc, "env", Limits.DEFAULT).root();
        List<String> keys = root.child("PropertySection", List.of(Cim.ENV)).children().stream().map(p -> p.attr(Cim.ENV, "key")).toList();
        assertTrue(keys.contains("com.vmware.test.dbIp.vapp"), "the vApp's properties: " + keys);
        XmlNode entity = root.child("Entity", List.of(Cim.ENV));
        assertEquals("vs2", entity.attr(Cim.ENV, "id"));
    }
}
