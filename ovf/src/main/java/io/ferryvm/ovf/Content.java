package io.ferryvm.ovf;

import java.util.ArrayList;
import java.util.List;

/** The Content of an envelope: one VirtualSystem or a VirtualSystemCollection of them (which may nest). */
public sealed interface Content {
    String id();

    Msg info();

    /** The optional Name element ("" when absent). */
    String name();

    List<Section> sections();

    Extras x();

    record VirtualSystem(String id, Msg info, String name, List<Section> sections, Extras x) implements Content {
        public VirtualSystem {
            name = name == null ? "" : name;
            sections = List.copyOf(sections);
        }
    }

    record VirtualSystemCollection(String id, Msg info, String name, List<Section> sections, List<Content> children, Extras x)
            implements Content {
        public VirtualSystemCollection {
            name = name == null ? "" : name;
            sections = List.copyOf(sections);
            children = List.copyOf(children);
        }
    }

    /** The first section of a type, or null. */
    default <S extends Section> S section(Class<S> type) {
        for (Section s : sections()) {
            if (type.isInstance(s)) {
                return type.cast(s);
            }
        }
        return null;
    }

    default <S extends Section> List<S> sectionsOf(Class<S> type) {
        List<S> out = new ArrayList<>();
        for (Section s : sections()) {
            if (type.isInstance(s)) {
                out.add(type.cast(s));
            }
        }
        return out;
    }

    /** Every VirtualSystem in this content, depth first. */
    default List<VirtualSystem> virtualSystems() {
        List<VirtualSystem> out = new ArrayList<>();
        collect(this, out);
        return out;
    }

    private static void collect(Content c, List<VirtualSystem> out) {
        if (c instanceof VirtualSystem vs) {
            out.add(vs);
        } else if (c instanceof VirtualSystemCollection vsc) {
            for (Content child : vsc.children()) {
                collect(child, out);
            }
        }
    }
}
