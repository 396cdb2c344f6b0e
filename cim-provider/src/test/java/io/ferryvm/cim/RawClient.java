package io.ferryvm.cim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A CIM-XML client written for tests: builds requests by hand (so tests can also send what no real
 * client sends) and parses answers with the provider's own XML reader.
 */
final class RawClient {
    /** An answer: HTTP status and headers, and for a 200 the (I)METHODRESPONSE element. */
    record Answer(int status, HttpResponse<byte[]> http, XmlTree.Node response) {
        String body() {
            return new String(http.body(), StandardCharsets.UTF_8);
        }

        String header(String name) {
            return http.headers().firstValue(name).orElse(null);
        }

        XmlTree.Node error() {
            assertEquals(200, status, () -> "HTTP " + status + ": " + body());
            return response.child("ERROR");
        }

        int code() {
            XmlTree.Node e = error();
            return e == null ? 0 : Integer.parseInt(e.attr("CODE"));
        }

        String description() {
            XmlTree.Node e = error();
            return e == null ? "" : e.attr("DESCRIPTION");
        }

        /** The IRETURNVALUE's children (intrinsic), after asserting success. */
        List<XmlTree.Node> returned() {
            assertEquals(0, code(), () -> "CIM error " + code() + ": " + description());
            XmlTree.Node rv = response.child("IRETURNVALUE");
            return rv == null ? List.of() : rv.children;
        }

        /** RETURNVALUE of an extrinsic call, after asserting success. */
        long returnValue() {
            assertEquals(0, code(), () -> "CIM error " + code() + ": " + description());
            return Long.parseLong(response.child("RETURNVALUE").child("VALUE").text());
        }

        XmlTree.Node outParam(String name) {
            for (XmlTree.Node p : response.children("PARAMVALUE")) {
                if (p.attr("NAME").equals(name)) {
                    return p;
                }
            }
            return null;
        }
    }

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    private final String url;
    private final String authorization;

    RawClient(String baseUrl, String user, String password) {
        this.url = baseUrl + "/cimom";
        this.authorization = user == null ? null
                : "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    static RawClient admin(TestServer s) {
        return new RawClient(s.http(), TestServer.ADMIN, TestServer.PASSWORD);
    }

    /** Sends body with exactly the given headers (plus Authorization unless headers set it, or null for none). */
    Answer send(String method, Map<String, String> headers, byte[] body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        if (authorization != null && !headers.containsKey("Authorization")) {
            b.header("Authorization", authorization);
        }
        headers.forEach((k, v) -> {
            if (v != null) {
                b.header(k, v);
            }
        });
        try {
            HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            XmlTree.Node resp = null;
            if (r.statusCode() == 200) {
                XmlTree.Node cim = XmlTree.parse(r.body(), XmlTree.Limits.DEFAULT);
                resp = cim.child("MESSAGE").child("SIMPLERSP").children.get(0);
            }
            return new Answer(r.statusCode(), r, resp);
        } catch (IOException | XmlTree.MalformedXml e) {
            throw new AssertionError("request failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static Map<String, String> headers(String method, String object) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Content-Type", "application/xml; charset=\"utf-8\"");
        h.put("CIMProtocolVersion", "1.0");
        h.put("CIMOperation", "MethodCall");
        h.put("CIMMethod", method);
        h.put("CIMObject", object);
        return h;
    }

    static String envelope(String call) {
        return "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE ID=\"1001\" "
                + "PROTOCOLVERSION=\"1.0\"><SIMPLEREQ>" + call + "</SIMPLEREQ></MESSAGE></CIM>";
    }

    static String lnp(String ns) {
        StringBuilder b = new StringBuilder("<LOCALNAMESPACEPATH>");
        for (String p : ns.split("/")) {
            b.append("<NAMESPACE NAME=\"").append(p).append("\"/>");
        }
        return b.append("</LOCALNAMESPACEPATH>").toString();
    }

    static String intrinsicBody(String method, String ns, String params) {
        return envelope("<IMETHODCALL NAME=\"" + method + "\">" + lnp(ns) + params + "</IMETHODCALL>");
    }

    /** An intrinsic operation with IPARAMVALUE xml. */
    Answer call(String method, String ns, String params) {
        return send("POST", headers(method, ns.replace("/", "%2F")), intrinsicBody(method, ns, params).getBytes(StandardCharsets.UTF_8));
    }

    /** An extrinsic method on an instance. */
    Answer invoke(CimObjectPath target, String method, String params) {
        String ns = target.namespace();
        String body = envelope("<METHODCALL NAME=\"" + method + "\"><LOCALINSTANCEPATH>" + lnp(ns) + instanceName(target)
                + "</LOCALINSTANCEPATH>" + params + "</METHODCALL>");
        return send("POST", headers(method, CimHttp.percentDecode(target.toString())), body.getBytes(StandardCharsets.UTF_8));
    }

    static String instanceName(CimObjectPath p) {
        StringBuilder b = new StringBuilder();
        new CimXmlWriter(b, "localhost").instanceName(new CimObjectPath(null, null, p.className(), p.keys()));
        return b.toString();
    }

    static String iparam(String name, String content) {
        return "<IPARAMVALUE NAME=\"" + name + "\">" + content + "</IPARAMVALUE>";
    }

    static String className(String name, String cls) {
        return iparam(name, "<CLASSNAME NAME=\"" + cls + "\"/>");
    }

    static String value(String name, String v) {
        return iparam(name, "<VALUE>" + CimXmlWriter.escape(v) + "</VALUE>");
    }

    static String param(String name, String v) {
        return "<PARAMVALUE NAME=\"" + name + "\"><VALUE>" + CimXmlWriter.escape(v) + "</VALUE></PARAMVALUE>";
    }

    static String refParam(String name, CimObjectPath p) {
        StringBuilder b = new StringBuilder("<PARAMVALUE NAME=\"" + name + "\">");
        new CimXmlWriter(b, "localhost").valueReference(p);
        return b.append("</PARAMVALUE>").toString();
    }

    static String arrayParam(String name, String... values) {
        StringBuilder b = new StringBuilder("<PARAMVALUE NAME=\"" + name + "\"><VALUE.ARRAY>");
        for (String v : values) {
            b.append("<VALUE>").append(CimXmlWriter.escape(v)).append("</VALUE>");
        }
        return b.append("</VALUE.ARRAY></PARAMVALUE>").toString();
    }

    // ---- reading answers ----

    /** Instances of an EnumerateInstances answer. */
    static List<CimInstance> namedInstances(Answer a) {
        List<CimInstance> out = new ArrayList<>();
        for (XmlTree.Node n : a.returned()) {
            assertEquals("VALUE.NAMEDINSTANCE", n.name);
            out.add(CimXmlReader.instance(n.child("INSTANCE")).withPath(CimXmlReader.instanceName(n.child("INSTANCENAME"))));
        }
        return out;
    }

    static List<CimInstance> objectsWithPath(Answer a) {
        List<CimInstance> out = new ArrayList<>();
        for (XmlTree.Node n : a.returned()) {
            XmlTree.Node ip = n.child("INSTANCEPATH");
            assertNotNull(ip, "VALUE.OBJECTWITHPATH without INSTANCEPATH");
            out.add(CimXmlReader.instance(n.child("INSTANCE")).withPath(CimXmlReader.instancePath(ip)));
        }
        return out;
    }

    static List<CimObjectPath> objectPaths(Answer a) {
        List<CimObjectPath> out = new ArrayList<>();
        for (XmlTree.Node n : a.returned()) {
            out.add(CimXmlReader.instancePath(n.child("INSTANCEPATH")));
        }
        return out;
    }

    static CimInstance instance(Answer a) {
        List<XmlTree.Node> r = a.returned();
        assertEquals(1, r.size());
        return CimXmlReader.instance(r.get(0));
    }
}
