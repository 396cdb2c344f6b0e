package io.ferryvm.ovf;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An OVF descriptor, immutable: dialect, the ovf:version attribute as written, xml:lang, References, the
 * envelope-level sections (DiskSection, NetworkSection, DeploymentOptionSection, ...), the Content and the
 * Strings bundles, plus the namespace declarations of the root (kept so extensions are written back with
 * their own prefixes).
 */
public record Envelope(OvfVersion version, String versionAttribute, String lang, List<FileRef> references,
        List<Section> sections, Content content, List<StringsBundle> strings, Map<String, String> namespaces, Extras x) {

    public Envelope {
        versionAttribute = versionAttribute == null ? "" : versionAttribute;
        lang = lang == null ? "" : lang;
        references = List.copyOf(references);
        sections = List.copyOf(sections);
        strings = List.copyOf(strings);
        namespaces = Collections.unmodifiableMap(new LinkedHashMap<>(namespaces));
        x = x == null ? Extras.NONE : x;
    }

    public FileRef file(String id) {
        for (FileRef f : references) {
            if (f.id().equals(id)) {
                return f;
            }
        }
        return null;
    }

    /** Every Disk in envelope-level DiskSections. */
    public List<VirtualDisk> disks() {
        List<VirtualDisk> out = new ArrayList<>();
        for (Section s : sections) {
            if (s instanceof Section.DiskSection d) {
                out.addAll(d.disks());
            }
        }
        return out;
    }

    public VirtualDisk disk(String diskId) {
        for (VirtualDisk d : disks()) {
            if (d.diskId().equals(diskId)) {
                return d;
            }
        }
        return null;
    }

    public List<Network> networks() {
        List<Network> out = new ArrayList<>();
        for (Section s : sections) {
            if (s instanceof Section.NetworkSection n) {
                out.addAll(n.networks());
            }
        }
        return out;
    }

    public Section.DeploymentOptionSection deploymentOptions() {
        for (Section s : sections) {
            if (s instanceof Section.DeploymentOptionSection d) {
                return d;
            }
        }
        return null;
    }

    public List<Content.VirtualSystem> virtualSystems() {
        return content == null ? List.of() : content.virtualSystems();
    }
}
