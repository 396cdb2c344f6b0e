package io.ferryvm.ovf;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.XMLConstants;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.parsers.SAXParser;
import javax.xml.parsers.SAXParserFactory;
import org.xml.sax.Attributes;
import org.xml.sax.InputSource;
import org.xml.sax.Locator;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;
import org.xml.sax.helpers.DefaultHandler;

/**
 * Parses untrusted XML into {@link XmlNode}s with line and column on every element.
 *
 * <p>Implementation notes: JDK SAX with secure processing, DOCTYPE refused outright (this closes XXE,
 * billion-laughs and external DTD fetches in one rule: OVF never needs a DTD), no XInclude; the byte size is
 * checked before parsing and depth and element count while parsing. An encoding declaration of UTF-16 on
 * bytes that are plainly 8-bit (XenCenter's artefact, pitfall 11) is read as UTF-8 with a warning.
 */
final class SecureXml {
    static final String XSI = XMLConstants.W3C_XML_SCHEMA_INSTANCE_NS_URI;
    private static final Pattern DECLARED_ENCODING = Pattern.compile("^<\\?xml[^>]*encoding\\s*=\\s*[\"']([^\"']+)[\"']");

    /** A parsed document: its root, the namespace declarations of the root element, and parse warnings. */
    record Parsed(XmlNode root, Map<String, String> rootNamespaces, List<Finding> warnings) {}

    private SecureXml() {}

    static SAXParserFactory factory() {
        try {
            SAXParserFactory f = SAXParserFactory.newInstance();
            f.setNamespaceAware(true);
            f.setValidating(false);
            f.setXIncludeAware(false);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setFeature("http://xml.org/sax/features/external-general-entities", false);
            f.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
            f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
            return f;
        } catch (ParserConfigurationException | SAXException e) {
            throw new IllegalStateException("the JDK's SAX parser lacks a security feature: " + e.getMessage(), e);
        }
    }

    static Parsed parse(byte[] bytes, String source, Limits limits) {
        if (bytes.length > limits.maxDescriptorBytes()) {
            throw new OvfException(OvfException.Kind.TOO_LARGE, source + ": " + bytes.length + " bytes exceeds the descriptor limit of "
                    + limits.maxDescriptorBytes() + " bytes");
        }
        List<Finding> warnings = new ArrayList<>();
        InputSource in = input(bytes, source, warnings);
        Handler h = new Handler(source, limits);
        try {
            SAXParser p = factory().newSAXParser();
            p.parse(in, h);
        } catch (SAXParseException e) {
            throw new OvfException(OvfException.Kind.MALFORMED, source + ":" + e.getLineNumber() + ":" + e.getColumnNumber() + ": "
                    + explain(e.getMessage()), e);
        } catch (SAXException e) {
            throw new OvfException(OvfException.Kind.MALFORMED, source + ": " + explain(e.getMessage()), e);
        } catch (IOException | ParserConfigurationException e) {
            throw new OvfException(OvfException.Kind.IO, source + ": " + e.getMessage(), e);
        }
        if (h.root == null) {
            throw new OvfException(OvfException.Kind.MALFORMED, source + ": no root element");
        }
        return new Parsed(h.root, h.rootNamespaces, warnings);
    }

    private static String explain(String msg) {
        if (msg != null && msg.contains("DOCTYPE is disallowed")) {
            return "DOCTYPE declarations are refused (no DTDs or entities in OVF; XXE and entity-expansion protection)";
        }
        return msg;
    }

    private static InputSource input(byte[] bytes, String source, List<Finding> warnings) {
        String head = new String(bytes, 0, Math.min(bytes.length, 200), StandardCharsets.ISO_8859_1);
        Matcher m = DECLARED_ENCODING.matcher(head);
        InputSource in;
        if (m.find() && m.group(1).toLowerCase(Locale.ROOT).startsWith("utf-16")) {
            // Real UTF-16 starts with a BOM or has a zero byte in "<?"; "<?xml" in ASCII means it is not UTF-16.
            warnings.add(Finding.warning(new Location(source, 1, 1), "declares encoding=\"" + m.group(1)
                    + "\" but the bytes are 8-bit; read as UTF-8"));
            in = new InputSource(new InputStreamReader(new ByteArrayInputStream(bytes), StandardCharsets.UTF_8));
        } else {
            in = new InputSource(new ByteArrayInputStream(bytes));
        }
        in.setSystemId(null);
        return in;
    }

    private static final class Builder {
        final String ns;
        final String local;
        final String prefix;
        final Map<String, String> attrs;
        final StringBuilder text = new StringBuilder();
        final List<XmlNode> children = new ArrayList<>();
        final Location at;

        Builder(String ns, String local, String prefix, Map<String, String> attrs, Location at) {
            this.ns = ns;
            this.local = local;
            this.prefix = prefix;
            this.attrs = attrs;
            this.at = at;
        }
    }

    private static final class Handler extends DefaultHandler {
        private final String source;
        private final Limits limits;
        private final Deque<Builder> stack = new ArrayDeque<>();
        private final Map<String, String> pending = new LinkedHashMap<>();
        private Locator locator;
        private int elements;
        XmlNode root;
        Map<String, String> rootNamespaces = Map.of();

        Handler(String source, Limits limits) {
            this.source = source;
            this.limits = limits;
        }

        @Override
        public void setDocumentLocator(Locator l) {
            this.locator = l;
        }

        @Override
        public void startPrefixMapping(String prefix, String uri) {
            pending.put(prefix, uri);
        }

        @Override
        public void startElement(String uri, String localName, String qName, Attributes atts) throws SAXException {
            Location at = new Location(source, locator == null ? 0 : locator.getLineNumber(), locator == null ? 0 : locator.getColumnNumber());
            if (stack.size() >= limits.maxDepth()) {
                throw new SAXParseException("elements nested deeper than " + limits.maxDepth() + " levels", locator);
            }
            if (++elements > limits.maxElements()) {
                throw new SAXParseException("more than " + limits.maxElements() + " elements", locator);
            }
            if (stack.isEmpty()) {
                rootNamespaces = new LinkedHashMap<>(pending);
            }
            pending.clear();
            Map<String, String> attrs = new LinkedHashMap<>();
            for (int i = 0; i < atts.getLength(); i++) {
                attrs.put(XmlNode.clark(atts.getURI(i), atts.getLocalName(i)), atts.getValue(i));
            }
            int colon = qName.indexOf(':');
            stack.push(new Builder(uri, localName, colon < 0 ? "" : qName.substring(0, colon), attrs, at));
        }

        @Override
        public void endElement(String uri, String localName, String qName) {
            Builder b = stack.pop();
            XmlNode n = new XmlNode(b.ns, b.local, b.prefix, b.attrs, b.text.toString(), b.children, b.at);
            if (stack.isEmpty()) {
                root = n;
            } else {
                stack.peek().children.add(n);
            }
        }

        @Override
        public void characters(char[] ch, int start, int length) {
            if (!stack.isEmpty()) {
                stack.peek().text.append(ch, start, length);
            }
        }
    }
}
