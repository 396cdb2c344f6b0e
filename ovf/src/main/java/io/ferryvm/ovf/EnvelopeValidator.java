package io.ferryvm.ovf;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.xml.XMLConstants;
import javax.xml.transform.sax.SAXSource;
import javax.xml.validation.Schema;
import javax.xml.validation.SchemaFactory;
import javax.xml.validation.Validator;
import org.xml.sax.ErrorHandler;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;
import org.xml.sax.XMLReader;

/**
 * Checks a descriptor: semantic checks on the model (errors: dangling fileRef/diskId/Parent/HostResource
 * references, duplicate ids and InstanceIDs, negative or absurd sizes, missing required elements) and,
 * given the DMTF schema folder, XSD validation reported as warnings (most real files fail strict XSD).
 */
public final class EnvelopeValidator {
    /** File (relative to the schema folder) of the XSD for each dialect; 0.9 has none. */
    static final Map<OvfVersion, String> SCHEMAS = Map.of(
            OvfVersion.V1, "ovf-1.1.1_xen-orchestra/dsp8023_1.1.1.xsd",
            OvfVersion.V2, "ovf-2.0.1_itchy/dsp8023_2.0.1.xsd");
    private static final int MAX_SCHEMA_FINDINGS = 200;
    private static final Set<Integer> CONTROLLERS = Set.of(Cim.IDE, Cim.SCSI, Cim.FC, Cim.ISCSI, Cim.OTHER_STORAGE, Cim.USB, 9, 12, 25);
    private static final Set<String> TYPES = Set.of("string", "boolean", "uint8", "sint8", "uint16", "sint16", "uint32",
            "sint32", "uint64", "sint64", "real32", "real64");
    /** oVirt writes the nil UUID as the Parent of top-level devices. */
    static final String NIL_UUID = "00000000-0000-0000-0000-000000000000";
    private static final Map<Path, Schema> SCHEMA_CACHE = new ConcurrentHashMap<>();

    private final Limits limits;
    private final List<Finding> out = new ArrayList<>();

    private EnvelopeValidator(Limits limits) {
        this.limits = limits;
    }

    /** Semantic findings for an envelope. */
    public static List<Finding> validate(Envelope e) {
        return validate(e, Limits.DEFAULT);
    }

    public static List<Finding> validate(Envelope e, Limits limits) {
        EnvelopeValidator v = new EnvelopeValidator(limits);
        v.check(e);
        return List.copyOf(v.out);
    }

    /** Throws INVALID naming every error among the findings (each with its line and column); returns the findings otherwise. */
    public static List<Finding> requireNoErrors(List<Finding> findings, String source) {
        List<String> errors = new ArrayList<>();
        for (Finding f : findings) {
            if (f.isError()) {
                errors.add(f.at() + ": " + f.message());
            }
        }
        if (!errors.isEmpty()) {
            throw new OvfException(OvfException.Kind.INVALID, source + " is not a valid OVF descriptor (" + errors.size() + " error"
                    + (errors.size() == 1 ? "" : "s") + "):\n  " + String.join("\n  ", errors));
        }
        return findings;
    }

    /** Reads and validates: reader warnings, semantic findings, and XSD warnings when schemaDir is given (else none). */
    public static List<Finding> validate(byte[] descriptor, String source, Path schemaDir) {
        EnvelopeReader.Result r = EnvelopeReader.read(descriptor, source);
        List<Finding> all = new ArrayList<>(r.findings());
        all.addAll(validate(r.envelope()));
        if (schemaDir != null) {
            all.addAll(validateSchema(descriptor, source, r.envelope().version(), schemaDir));
        }
        return all;
    }

    private void error(Location at, String msg) {
        out.add(Finding.error(at, msg));
    }

    private void warn(Location at, String msg) {
        out.add(Finding.warning(at, msg));
    }

    private void check(Envelope e) {
        Map<String, FileRef> files = new HashMap<>();
        Set<String> hrefs = new HashSet<>();
        for (FileRef f : e.references()) {
            Location at = f.x().at();
            if (f.id() == null || f.id().isBlank()) {
                error(at, "File without ovf:id");
            } else if (files.put(f.id(), f) != null) {
                error(at, "duplicate File ovf:id '" + f.id() + "'");
            }
            if (f.href() == null || f.href().isBlank()) {
                error(at, "File " + f.id() + " without ovf:href");
            } else {
                hrefs.add(f.href());
                String unsafe = PackagePaths.unsafe(f.href());
                if (unsafe != null) {
                    warn(at, "File " + f.id() + " href '" + f.href() + "' " + unsafe + ": Ferry will not import it");
                }
            }
            if (f.size() < -1 || f.size() == -1 && "-1".equals(String.valueOf(f.x().attributes().get("size")))) {
                error(at, "File " + f.id() + " has a negative ovf:size " + f.size());
            } else if (f.size() > limits.maxDiskBytes()) {
                error(at, "File " + f.id() + " declares ovf:size " + f.size() + " bytes, beyond the limit of " + limits.maxDiskBytes());
            }
            if (f.chunkSize() < 0) {
                error(at, "File " + f.id() + " has a negative ovf:chunkSize " + f.chunkSize());
            }
            if (!f.compression().isEmpty() && !f.gzip() && !f.compression().equalsIgnoreCase("identity")) {
                error(at, "File " + f.id() + " ovf:compression=\"" + f.compression() + "\": only gzip is defined");
            }
        }
        Map<String, String> props = properties(e);
        Map<String, VirtualDisk> disks = new HashMap<>();
        for (VirtualDisk d : e.disks()) {
            Location at = d.x().at();
            if (d.diskId() == null || d.diskId().isBlank()) {
                error(at, "Disk without ovf:diskId");
                continue;
            }
            if (disks.put(d.diskId(), d) != null) {
                error(at, "duplicate Disk ovf:diskId '" + d.diskId() + "'");
            }
            if (!d.fileRef().isEmpty() && !files.containsKey(d.fileRef())) {
                if (hrefs.contains(d.fileRef())) {
                    warn(at, "Disk " + d.diskId() + " ovf:fileRef '" + d.fileRef() + "' names a File by href, not id (oVirt)");
                } else {
                    error(at, "Disk " + d.diskId() + " ovf:fileRef '" + d.fileRef() + "' names no File in References");
                }
            }
            if (d.capacity().isEmpty()) {
                error(at, "Disk " + d.diskId() + " without ovf:capacity");
            } else {
                try {
                    long cap = Units.capacityBytes(d, props);
                    if (cap > limits.maxDiskBytes()) {
                        error(at, "Disk " + d.diskId() + " capacity " + cap + " bytes is beyond the limit of " + limits.maxDiskBytes());
                    }
                    if (d.populatedSize() > cap && d.populatedSize() > 0) {
                        error(at, "Disk " + d.diskId() + " ovf:populatedSize " + d.populatedSize() + " exceeds its capacity " + cap);
                    }
                } catch (IllegalArgumentException ex) {
                    if (Units.reference(d.capacity()) != null && ex.getMessage().contains("names no")) {
                        error(at, "Disk " + d.diskId() + ": " + ex.getMessage());
                    } else {
                        error(at, "Disk " + d.diskId() + " capacity '" + d.capacity() + "' (" + d.capacityUnits() + "): " + ex.getMessage());
                    }
                }
            }
            if (d.populatedSize() < -1) {
                error(at, "Disk " + d.diskId() + " has a negative ovf:populatedSize " + d.populatedSize());
            }
        }
        for (VirtualDisk d : e.disks()) {
            if (!d.parentRef().isEmpty() && !disks.containsKey(d.parentRef())) {
                error(d.x().at(), "Disk " + d.diskId() + " ovf:parentRef '" + d.parentRef() + "' names no Disk");
            }
        }
        Set<String> nets = new HashSet<>();
        for (Network n : e.networks()) {
            if (n.name() == null || n.name().isBlank()) {
                error(n.x().at(), "Network without ovf:name");
            } else if (!nets.add(n.name())) {
                warn(n.x().at(), "Network '" + n.name() + "' declared twice");
            }
        }
        Set<String> configs = new HashSet<>();
        Section.DeploymentOptionSection dos = e.deploymentOptions();
        if (dos != null) {
            for (Configuration c : dos.configurations()) {
                if (!configs.add(c.id())) {
                    error(c.x().at(), "duplicate Configuration ovf:id '" + c.id() + "'");
                }
            }
        }
        for (StringsBundle s : e.strings()) {
            if (!s.fileRef().isEmpty() && !files.containsKey(s.fileRef())) {
                error(s.x().at(), "Strings ovf:fileRef '" + s.fileRef() + "' names no File");
            }
        }
        if (e.content() == null) {
            error(e.x().at(), "Envelope has no VirtualSystem or VirtualSystemCollection");
            return;
        }
        content(e.content(), files, disks, nets, configs);
    }

    private void content(Content c, Map<String, FileRef> files, Map<String, VirtualDisk> disks, Set<String> nets, Set<String> configs) {
        Location at = c.x().at();
        String what = (c instanceof Content.VirtualSystem ? "VirtualSystem" : "VirtualSystemCollection") + " '" + c.id() + "'";
        if (c.id() == null || c.id().isBlank()) {
            error(at, what + " without ovf:id");
        }
        if (c.info() == null) {
            warn(at, what + " has no Info element (required by DSP8023)");
        }
        for (Section s : c.sections()) {
            if (s instanceof Section.VirtualHardwareSection vhs) {
                hardware(what, vhs, files, disks, nets, configs);
            } else if (s instanceof Section.ProductSection p) {
                product(p);
            } else if (s instanceof Section.ResourceAllocationSection ras) {
                for (Item i : ras.items()) {
                    if (i.resourceType() < 0) {
                        error(i.x().at(), "ResourceAllocationSection " + i.describe() + " without a numeric rasd:ResourceType");
                    }
                }
            }
        }
        if (c instanceof Content.VirtualSystem && c.section(Section.VirtualHardwareSection.class) == null) {
            error(at, what + " has no VirtualHardwareSection");
        }
        if (c instanceof Content.VirtualSystemCollection vsc) {
            Set<String> ids = new HashSet<>();
            for (Content child : vsc.children()) {
                if (child.id() != null && !ids.add(child.id())) {
                    error(child.x().at(), "duplicate ovf:id '" + child.id() + "' in " + what);
                }
                content(child, files, disks, nets, configs);
            }
        }
    }

    private void hardware(String vs, Section.VirtualHardwareSection vhs, Map<String, FileRef> files, Map<String, VirtualDisk> disks,
            Set<String> nets, Set<String> configs) {
        Set<String> hrefs = new HashSet<>();
        for (FileRef f : files.values()) {
            hrefs.add(f.href());
        }
        Map<String, List<Item>> byId = new LinkedHashMap<>();
        for (Item i : vhs.items()) {
            Location at = i.x().at();
            if (i.property("ResourceType") == null) {
                error(at, vs + ": " + i.describe() + " has no rasd:ResourceType");
            } else if (i.resourceType() < 0) {
                error(at, vs + ": " + i.describe() + " rasd:ResourceType '" + i.get("ResourceType") + "' is not a number");
            } else if (!Cim.RESOURCE_TYPES.containsKey(i.resourceType()) && i.x().isRequired()) {
                warn(at, vs + ": " + i.describe() + " has ResourceType " + i.resourceType() + " (" + Cim.resourceTypeName(i.resourceType())
                        + ") and is ovf:required (the default): an importer that does not know it must refuse the package");
            }
            Item.Rasd id = i.property("InstanceID");
            if (id == null) {
                error(at, vs + ": " + i.describe() + " has no rasd:InstanceID");
            } else {
                if (!id.name().equals("InstanceID")) {
                    warn(id.at(), vs + ": " + id.name() + " is misspelled: the CIM property is InstanceID");
                }
                byId.computeIfAbsent(id.value().strip(), k -> new ArrayList<>()).add(i);
            }
            for (String conf : i.configurations()) {
                if (!configs.contains(conf)) {
                    error(at, vs + ": " + i.describe() + " ovf:configuration '" + conf + "' names no DeploymentOptionSection Configuration");
                }
            }
        }
        for (Map.Entry<String, List<Item>> en : byId.entrySet()) {
            List<Item> same = en.getValue();
            for (int a = 0; a < same.size(); a++) {
                for (int b = a + 1; b < same.size(); b++) {
                    if (overlap(same.get(a), same.get(b))) {
                        error(same.get(b).x().at(), vs + ": duplicate InstanceID " + en.getKey() + " (also " + same.get(a).describe()
                                + " at line " + same.get(a).x().at().line() + ")");
                    }
                }
            }
        }
        for (Item i : vhs.items()) {
            Location at = i.x().at();
            String parent = i.get("Parent");
            if (!parent.isEmpty() && !parent.equals(NIL_UUID)) {
                List<Item> p = byId.get(parent);
                if (p == null) {
                    error(at, vs + ": " + i.describe() + " rasd:Parent " + parent + " names no Item");
                } else if (!CONTROLLERS.contains(p.get(0).resourceType()) && p.get(0).resourceType() != Cim.OTHER) {
                    error(at, vs + ": " + i.describe() + " rasd:Parent " + parent + " is a " + Cim.resourceTypeName(p.get(0).resourceType())
                            + ", not a controller");
                }
            }
            for (String hr : i.all("HostResource")) {
                if (hr.isEmpty()) {
                    continue;
                }
                HostRef ref = HostRef.parse(hr);
                if (ref == null && (hrefs.contains(hr) || files.containsKey(hr))) {
                    warn(at, vs + ": " + i.describe() + " rasd:HostResource '" + hr + "' names a File directly, not ovf:/disk/<id> (oVirt)");
                } else if (ref == null) {
                    if (i.resourceType() == Cim.DISK || i.resourceType() == Cim.STORAGE_EXTENT || i.resourceType() == Cim.LOGICAL_DISK) {
                        error(at, vs + ": " + i.describe() + " rasd:HostResource '" + hr + "' is not ovf:/disk/<id> or ovf:/file/<id>");
                    }
                } else if (ref.disk() && !disks.containsKey(ref.id())) {
                    error(at, vs + ": " + i.describe() + " rasd:HostResource '" + hr + "' names no Disk");
                } else if (!ref.disk() && !files.containsKey(ref.id())) {
                    error(at, vs + ": " + i.describe() + " rasd:HostResource '" + hr + "' names no File");
                }
            }
            if (i.resourceType() == Cim.ETHERNET || i.resourceType() == Cim.OTHER_NETWORK) {
                for (String conn : i.all("Connection")) {
                    if (!conn.isEmpty() && !nets.isEmpty() && !nets.contains(conn)) {
                        warn(at, vs + ": " + i.describe() + " connects to network '" + conn + "', not in NetworkSection");
                    }
                }
            }
        }
    }

    /** Two Items with the same InstanceID conflict unless distinct configurations or distinct bounds select them. */
    private static boolean overlap(Item a, Item b) {
        if (!a.bound().equals(b.bound())) {
            return false;
        }
        // An Item without ovf:configuration is the default that configuration-specific Items override (Cisco's csr1000v).
        if (a.configurations().isEmpty() || b.configurations().isEmpty()) {
            return a.configurations().isEmpty() && b.configurations().isEmpty();
        }
        for (String c : a.configurations()) {
            if (b.configurations().contains(c)) {
                return true;
            }
        }
        return false;
    }

    private void product(Section.ProductSection p) {
        Set<String> keys = new HashSet<>();
        for (Property prop : p.properties()) {
            Location at = prop.x().at();
            if (prop.key() == null || prop.key().isBlank()) {
                error(at, "Property without ovf:key");
                continue;
            }
            if (!keys.add(prop.key())) {
                error(at, "duplicate Property key '" + p.fullKey(prop) + "'");
            }
            if (!TYPES.contains(prop.type())) {
                warn(at, "Property " + p.fullKey(prop) + " has unknown ovf:type '" + prop.type() + "'");
                continue;
            }
            if (!prop.value().isEmpty()) {
                String bad = PropertyValues.check(prop, prop.value());
                if (bad != null) {
                    warn(at, "Property " + p.fullKey(prop) + " default value: " + bad);
                }
            }
        }
    }

    /** Property values by full key and by bare key, for ${key} capacities. */
    static Map<String, String> properties(Envelope e) {
        Map<String, String> m = new HashMap<>();
        if (e.content() == null) {
            return m;
        }
        collectProps(e.content(), m);
        return m;
    }

    private static void collectProps(Content c, Map<String, String> m) {
        for (Section.ProductSection p : c.sectionsOf(Section.ProductSection.class)) {
            for (Property prop : p.properties()) {
                if (prop.key() != null) {
                    m.putIfAbsent(prop.key(), prop.value());
                    m.putIfAbsent(p.fullKey(prop), prop.value());
                }
            }
        }
        if (c instanceof Content.VirtualSystemCollection vsc) {
            for (Content child : vsc.children()) {
                collectProps(child, m);
            }
        }
    }

    /** XSD validation against the DMTF schema for the dialect, as warnings with line and column. */
    public static List<Finding> validateSchema(byte[] descriptor, String source, OvfVersion version, Path schemaDir) {
        String rel = SCHEMAS.get(version);
        List<Finding> out = new ArrayList<>();
        if (rel == null) {
            out.add(Finding.warning(new Location(source, 0, 0), "no DMTF schema exists for OVF " + version.label() + ": XSD check skipped"));
            return out;
        }
        Path xsd = schemaDir.resolve(rel);
        if (!Files.isRegularFile(xsd)) {
            throw new OvfException(OvfException.Kind.IO, "schema " + xsd + " not found (give the folder holding " + rel + ")");
        }
        Schema schema = SCHEMA_CACHE.computeIfAbsent(xsd.toAbsolutePath().normalize(), EnvelopeValidator::compile);
        Validator v = schema.newValidator();
        try {
            v.setProperty(XMLConstants.ACCESS_EXTERNAL_DTD, "");
            v.setProperty(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
        } catch (SAXException e) {
            throw new IllegalStateException(e);
        }
        v.setErrorHandler(new ErrorHandler() {
            @Override
            public void warning(SAXParseException e) {
                add(e);
            }

            @Override
            public void error(SAXParseException e) {
                add(e);
            }

            @Override
            public void fatalError(SAXParseException e) {
                add(e);
            }

            private void add(SAXParseException e) {
                if (out.size() < MAX_SCHEMA_FINDINGS) {
                    out.add(Finding.warning(new Location(source, e.getLineNumber(), e.getColumnNumber()), "XSD " + rel + ": " + e.getMessage()));
                }
            }
        });
        try {
            XMLReader reader = SecureXml.factory().newSAXParser().getXMLReader();
            String head = new String(descriptor, 0, Math.min(200, descriptor.length), StandardCharsets.ISO_8859_1).toLowerCase(java.util.Locale.ROOT);
            InputSource in = head.contains("encoding=\"utf-16\"") || head.contains("encoding='utf-16'")
                    ? new InputSource(new InputStreamReader(new ByteArrayInputStream(descriptor), StandardCharsets.UTF_8))
                    : new InputSource(new ByteArrayInputStream(descriptor));
            v.validate(new SAXSource(reader, in));
        } catch (SAXException | IOException | javax.xml.parsers.ParserConfigurationException e) {
            if (out.isEmpty() || !(e instanceof SAXParseException)) {
                out.add(Finding.warning(new Location(source, 0, 0), "XSD validation stopped: " + e.getMessage()));
            }
        }
        return out;
    }

    private static Schema compile(Path xsd) {
        try {
            SchemaFactory f = SchemaFactory.newInstance(XMLConstants.W3C_XML_SCHEMA_NS_URI);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            // Local imports only: the DMTF schemas import their CIM and W3C siblings by file name.
            f.setProperty(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "file");
            f.setProperty(XMLConstants.ACCESS_EXTERNAL_DTD, "file");
            // The W3C xmldsig schema names XMLSchema.dtd by URL: answer DTD look-ups with nothing instead of fetching.
            f.setResourceResolver((type, ns, publicId, systemId, base) ->
                    "http://www.w3.org/TR/REC-xml".equals(type) ? new EmptyInput(publicId, systemId, base) : null);
            f.setErrorHandler(new ErrorHandler() {
                @Override
                public void warning(SAXParseException e) {
                    // Skipped remote imports (CIM_* import common.xsd by URL; the local copy was imported first).
                }

                @Override
                public void error(SAXParseException e) {
                    // same: schema_reference errors for blocked http imports are harmless here
                }

                @Override
                public void fatalError(SAXParseException e) throws SAXException {
                    throw e;
                }
            });
            return f.newSchema(xsd.toFile());
        } catch (SAXException e) {
            throw new OvfException(OvfException.Kind.IO, "cannot compile schema " + xsd + ": " + e.getMessage(), e);
        }
    }

    /** An empty DTD, for the schema compiler's look-ups. */
    private record EmptyInput(String publicId, String systemId, String baseURI) implements org.w3c.dom.ls.LSInput {
        @Override
        public java.io.Reader getCharacterStream() {
            return new java.io.StringReader("");
        }

        @Override
        public void setCharacterStream(java.io.Reader r) {
            throw new UnsupportedOperationException();
        }

        @Override
        public java.io.InputStream getByteStream() {
            return null;
        }

        @Override
        public void setByteStream(java.io.InputStream s) {
            throw new UnsupportedOperationException();
        }

        @Override
        public String getStringData() {
            return "";
        }

        @Override
        public void setStringData(String s) {
            throw new UnsupportedOperationException();
        }

        @Override
        public String getSystemId() {
            return systemId;
        }

        @Override
        public void setSystemId(String s) {
            throw new UnsupportedOperationException();
        }

        @Override
        public String getPublicId() {
            return publicId;
        }

        @Override
        public void setPublicId(String s) {
            throw new UnsupportedOperationException();
        }

        @Override
        public String getBaseURI() {
            return baseURI;
        }

        @Override
        public void setBaseURI(String s) {
            throw new UnsupportedOperationException();
        }

        @Override
        public String getEncoding() {
            return null;
        }

        @Override
        public void setEncoding(String s) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean getCertifiedText() {
            return false;
        }

        @Override
        public void setCertifiedText(boolean b) {
            throw new UnsupportedOperationException();
        }
    }
}
