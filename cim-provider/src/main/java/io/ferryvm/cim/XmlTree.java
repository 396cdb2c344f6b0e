package io.ferryvm.cim;

import java.io.ByteArrayInputStream;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.xml.XMLConstants;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;

/**
 * A small element tree read from hostile bytes with the JDK's StAX parser, locked down: no DTD (a
 * DOCTYPE is refused outright, so no entity can be declared, let alone expanded), no external
 * resources, and limits on depth, element count, attributes and text. CIM-XML needs nothing else:
 * elements, attributes and leaf text.
 *
 * <p>Implementation notes: the tree is built iteratively (an explicit stack), so nesting costs heap,
 * not Java stack; the depth limit bounds that heap. Embedded instances (escaped CIM-XML inside a VALUE)
 * are parsed again through {@link #parse(String, Limits)} by the codec, which counts the nesting.
 */
final class XmlTree {
    /** Bounds for one document. */
    record Limits(int maxDepth, int maxElements, int maxAttributes, int maxTextChars) {
        static final Limits DEFAULT = new Limits(48, 1_000_000, 32, 4 << 20);
    }

    /** Raised for anything that is not a well-formed, DTD-free, within-limits document. */
    static final class MalformedXml extends Exception {
        private static final long serialVersionUID = 1L;

        MalformedXml(String message) {
            super(message);
        }
    }

    /** One element: name, attributes in document order, child elements, and its own text. */
    static final class Node {
        final String name;
        final Map<String, String> attributes;
        final List<Node> children = new ArrayList<>();
        private StringBuilder text;

        Node(String name, Map<String, String> attributes) {
            this.name = name;
            this.attributes = attributes;
        }

        String text() {
            return text == null ? "" : text.toString();
        }

        boolean hasText() {
            return text != null;
        }

        /** An attribute by name; CIM-XML attribute names are fixed case, but EmbeddedObject also comes as EMBEDDEDOBJECT. */
        String attr(String n) {
            String v = attributes.get(n);
            if (v == null) {
                for (Map.Entry<String, String> e : attributes.entrySet()) {
                    if (e.getKey().equalsIgnoreCase(n)) {
                        return e.getValue();
                    }
                }
            }
            return v;
        }

        Node child(String n) {
            for (Node c : children) {
                if (c.name.equals(n)) {
                    return c;
                }
            }
            return null;
        }

        List<Node> children(String n) {
            List<Node> out = new ArrayList<>();
            for (Node c : children) {
                if (c.name.equals(n)) {
                    out.add(c);
                }
            }
            return out;
        }

        /** The only child element, or null when there is none or several. */
        Node onlyChild() {
            return children.size() == 1 ? children.get(0) : null;
        }

        @Override
        public String toString() {
            return "<" + name + attributes + ">";
        }
    }

    private static final XMLInputFactory FACTORY = factory();

    private XmlTree() {}

    private static XMLInputFactory factory() {
        XMLInputFactory f = XMLInputFactory.newFactory();
        f.setProperty(XMLInputFactory.SUPPORT_DTD, false);
        f.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
        f.setProperty(XMLInputFactory.IS_NAMESPACE_AWARE, false);
        f.setProperty(XMLInputFactory.IS_COALESCING, true);
        f.setProperty(XMLConstants.ACCESS_EXTERNAL_DTD, "");
        f.setProperty(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
        f.setXMLResolver((publicId, systemId, base, ns) -> {
            throw new XMLStreamException("external resource " + systemId + " refused");
        });
        return f;
    }

    static Node parse(byte[] bytes, Limits limits) throws MalformedXml {
        try {
            XMLStreamReader r;
            synchronized (FACTORY) { // creating readers is not documented thread-safe; reading is per reader
                r = FACTORY.createXMLStreamReader(new ByteArrayInputStream(bytes));
            }
            return read(r, limits);
        } catch (XMLStreamException e) {
            throw new MalformedXml(message(e));
        }
    }

    static Node parse(String text, Limits limits) throws MalformedXml {
        try {
            XMLStreamReader r;
            synchronized (FACTORY) {
                r = FACTORY.createXMLStreamReader(new StringReader(text));
            }
            return read(r, limits);
        } catch (XMLStreamException e) {
            throw new MalformedXml(message(e));
        }
    }

    private static Node read(XMLStreamReader r, Limits limits) throws XMLStreamException, MalformedXml {
        Deque<Node> stack = new ArrayDeque<>();
        Node root = null;
        int elements = 0;
        long textChars = 0;
        try {
            while (r.hasNext()) {
                int ev = r.next();
                switch (ev) {
                    case XMLStreamConstants.DTD:
                        throw new MalformedXml("a DOCTYPE is not allowed in CIM-XML");
                    case XMLStreamConstants.ENTITY_REFERENCE:
                    case XMLStreamConstants.ENTITY_DECLARATION:
                        throw new MalformedXml("entity references are not allowed in CIM-XML");
                    case XMLStreamConstants.START_ELEMENT: {
                        if (++elements > limits.maxElements()) {
                            throw new MalformedXml("more than " + limits.maxElements() + " elements");
                        }
                        if (stack.size() >= limits.maxDepth()) {
                            throw new MalformedXml("elements nested deeper than " + limits.maxDepth());
                        }
                        int n = r.getAttributeCount();
                        if (n > limits.maxAttributes()) {
                            throw new MalformedXml("element " + r.getLocalName() + " has more than " + limits.maxAttributes()
                                    + " attributes");
                        }
                        Map<String, String> attrs = new LinkedHashMap<>();
                        for (int i = 0; i < n; i++) {
                            attrs.put(r.getAttributeLocalName(i), r.getAttributeValue(i));
                        }
                        Node node = new Node(r.getLocalName(), attrs);
                        if (stack.isEmpty()) {
                            if (root != null) {
                                throw new MalformedXml("more than one root element");
                            }
                            root = node;
                        } else {
                            stack.peek().children.add(node);
                        }
                        stack.push(node);
                        break;
                    }
                    case XMLStreamConstants.END_ELEMENT:
                        stack.pop();
                        break;
                    case XMLStreamConstants.CHARACTERS:
                    case XMLStreamConstants.CDATA:
                    case XMLStreamConstants.SPACE: {
                        if (stack.isEmpty()) {
                            break;
                        }
                        int len = r.getTextLength();
                        textChars += len;
                        if (textChars > limits.maxTextChars()) {
                            throw new MalformedXml("more than " + limits.maxTextChars() + " characters of text");
                        }
                        Node top = stack.peek();
                        if (top.text == null) {
                            top.text = new StringBuilder(len);
                        }
                        top.text.append(r.getTextCharacters(), r.getTextStart(), len);
                        break;
                    }
                    default:
                        break; // comments, processing instructions, the XML declaration
                }
            }
        } finally {
            r.close();
        }
        if (root == null) {
            throw new MalformedXml("no root element");
        }
        return root;
    }

    private static String message(XMLStreamException e) {
        String m = e.getMessage() == null ? e.toString() : e.getMessage();
        m = m.replace('\n', ' ').replace('\r', ' ');
        return m.length() > 300 ? m.substring(0, 300) + "..." : m;
    }
}
