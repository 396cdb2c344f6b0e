package io.ferryvm.cim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DSP0200's HTTP rules and the refusals hostile requests get, each followed by a request that must
 * still be served.
 */
class CimProtocolTest {
    @TempDir
    static Path dir;
    static TestServer server;
    static RawClient admin;

    static final String ENUMERATE_HOSTS = RawClient.intrinsicBody("EnumerateInstanceNames", "root/virtualization",
            RawClient.className("ClassName", "Ferry_HostSystem"));

    @BeforeAll
    static void start() {
        server = new TestServer(dir, new InMemoryBackend("host1", "host2"), List.of("127.0.0.1"),
                new CimServerConfig.Limits(64 * 1024, 64, 100, Duration.ofSeconds(30), 4, 64));
        admin = RawClient.admin(server);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static RawClient.Answer enumerateHosts(RawClient c, Map<String, String> headers) {
        return c.send("POST", headers, ENUMERATE_HOSTS.getBytes(StandardCharsets.UTF_8));
    }

    private static Map<String, String> okHeaders() {
        return RawClient.headers("EnumerateInstanceNames", "root%2Fvirtualization");
    }

    /** The server answers the next well-formed request. */
    private static void stillServing() {
        RawClient.Answer a = enumerateHosts(admin, okHeaders());
        assertEquals(200, a.status());
        assertEquals(2, a.returned().size());
    }

    @Test
    void aWellFormedRequestIsAnswered() {
        RawClient.Answer a = enumerateHosts(admin, okHeaders());
        assertEquals(200, a.status());
        assertEquals("MethodResponse", a.header("CIMOperation"));
        assertTrue(a.header("Content-Type").startsWith("application/xml"));
        assertEquals(2, a.returned().size());
    }

    @Test
    void everyRequestNeedsCredentials() {
        for (RawClient c : List.of(new RawClient(server.http(), null, null), new RawClient(server.http(), "admin", "wrong"),
                new RawClient(server.http(), "mallory", TestServer.PASSWORD))) {
            RawClient.Answer a = enumerateHosts(c, okHeaders());
            assertEquals(401, a.status());
            assertTrue(a.header("WWW-Authenticate").startsWith("Basic realm="), a.header("WWW-Authenticate"));
            stillServing();
        }
        Map<String, String> h = okHeaders();
        h.put("Authorization", "Digest username=\"admin\"");
        assertEquals(401, enumerateHosts(admin, h).status());
        stillServing();
    }

    @Test
    void unauthenticatedRequestsAreRefusedBeforeAnythingElse() {
        RawClient anonymous = new RawClient(server.http(), null, null);
        Map<String, String> h = okHeaders();
        h.put("CIMBatch", "true");
        assertEquals(401, enumerateHosts(anonymous, h).status(), "no CIM error leaks before authentication");
        assertEquals(401, anonymous.send("POST", okHeaders(), "<!DOCTYPE x><x/>".getBytes(StandardCharsets.UTF_8)).status());
        stillServing();
    }

    @Test
    void namespacesAreAuthorisedPerUser() {
        RawClient reader = new RawClient(server.http(), TestServer.READER, TestServer.PASSWORD);
        RawClient auditor = new RawClient(server.http(), TestServer.AUDITOR, TestServer.PASSWORD);
        assertEquals(0, enumerateHosts(reader, okHeaders()).code());
        assertEquals(2, enumerateHosts(auditor, okHeaders()).code(), "auditor may not read root/virtualization");
        assertEquals(0, auditor.call("EnumerateInstanceNames", "root/interop", RawClient.className("ClassName", "Ferry_RegisteredProfile")).code());
        RawClient.Answer write = reader.invoke(VirtualSystemProfile.csPath("nope"), "RequestStateChange", RawClient.param("RequestedState", "2"));
        assertEquals(2, write.code(), "a read-only user calls no method: " + write.description());
        RawClient.Answer del = reader.call("DeleteInstance", "root/virtualization", RawClient.iparam("InstanceName",
                RawClient.instanceName(VirtualSystemProfile.csPath("nope"))));
        assertEquals(2, del.code());
        stillServing();
    }

    @Test
    void cimHeadersAreChecked() {
        Map<String, String> h = okHeaders();
        h.remove("CIMOperation");
        assertRefused(enumerateHosts(admin, h), 400, "unsupported-operation");
        h = okHeaders();
        h.put("CIMOperation", "MethodResponse");
        assertRefused(enumerateHosts(admin, h), 400, "unsupported-operation");
        h = okHeaders();
        h.put("CIMBatch", "CIMBatch");
        assertRefused(enumerateHosts(admin, h), 501, "multiple-requests-unsupported");
        h = okHeaders();
        h.put("CIMProtocolVersion", "2.0");
        assertRefused(enumerateHosts(admin, h), 501, "unsupported-protocol-version");
        h = okHeaders();
        h.put("CIMMethod", "GetInstance");
        assertRefused(enumerateHosts(admin, h), 400, "header-mismatch");
        h = okHeaders();
        h.put("CIMObject", "root%2Finterop");
        assertRefused(enumerateHosts(admin, h), 400, "header-mismatch");
        h = okHeaders();
        h.remove("CIMObject");
        assertRefused(enumerateHosts(admin, h), 400, "header-mismatch");
        h = okHeaders();
        h.remove("Content-Type");
        assertRefused(enumerateHosts(admin, h), 400, "request-not-valid");
        h = okHeaders();
        h.put("Content-Type", "application/json");
        assertRefused(enumerateHosts(admin, h), 400, "request-not-valid");
        stillServing();
    }

    @Test
    void anExtrinsicCallsObjectHeaderMustNameItsTarget() {
        CimObjectPath vm = VirtualSystemProfile.csPath("web");
        String body = RawClient.envelope("<METHODCALL NAME=\"RequestStateChange\"><LOCALINSTANCEPATH>" + RawClient.lnp("root/virtualization")
                + RawClient.instanceName(vm) + "</LOCALINSTANCEPATH>" + RawClient.param("RequestedState", "2") + "</METHODCALL>");
        Map<String, String> h = RawClient.headers("RequestStateChange",
                "root/virtualization:Ferry_ComputerSystem.CreationClassName=\"Ferry_ComputerSystem\",Name=\"db\"");
        assertRefused(admin.send("POST", h, body.getBytes(StandardCharsets.UTF_8)), 400, "header-mismatch");
        h.put("CIMObject", "root%2Fvirtualization%3AFerry_ComputerSystem.Name%3D%22web%22%2CCreationClassName%3D%22Ferry_ComputerSystem%22");
        RawClient.Answer a = admin.send("POST", h, body.getBytes(StandardCharsets.UTF_8));
        assertEquals(200, a.status(), "%-escaped, keys in another order: the same path");
        assertEquals(6, a.code(), "no VM web: " + a.description());
    }

    @Test
    void malformedAndHostileXmlIsRefusedAsNotWellFormed() {
        List<String> bodies = List.of(
                "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
                        + "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">]><CIM>&lol2;</CIM>",
                "<?xml version=\"1.0\"?><!DOCTYPE CIM [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>" + ENUMERATE_HOSTS.substring(38)
                        .replace("Ferry_HostSystem", "&xxe;"),
                ENUMERATE_HOSTS.substring(0, ENUMERATE_HOSTS.length() / 2),
                "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\">" + "<X>".repeat(100) + "</X>".repeat(100) + "</CIM>",
                "\u0000\u0001binary");
        for (String b : bodies) {
            assertRefused(admin.send("POST", okHeaders(), b.getBytes(StandardCharsets.UTF_8)), 400, "request-not-well-formed");
            stillServing();
        }
    }

    @Test
    void bodiesOverTheLimitAre413() {
        byte[] big = new byte[128 * 1024];
        java.util.Arrays.fill(big, (byte) ' ');
        RawClient.Answer a = admin.send("POST", okHeaders(), big);
        assertEquals(413, a.status());
        stillServing();
        assertEquals(413, rawExchange("POST /cimom HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999999999\r\n\r\n").status);
        assertTrue(List.of(400, 413).contains(rawExchange("POST /cimom HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -5\r\n\r\n").status));
        assertEquals(400, rawExchange("POST /cimom HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ten\r\n\r\n").status);
        stillServing();
    }

    @Test
    void onlyPostAndMPostAreOperations() {
        RawClient.Answer get = admin.send("GET", Map.of(), null);
        assertEquals(405, get.status());
        assertTrue(get.header("Allow").contains("M-POST"));
        Map<String, String> h = Map.of("Content-Type", "application/xml", "Man", "http://www.dmtf.org/cim/mapping.http#ns=73",
                "73-CIMOperation", "MethodCall", "73-CIMMethod", "EnumerateInstanceNames", "73-CIMObject", "root/virtualization");
        RawClient.Answer m = admin.send("M-POST", h, ENUMERATE_HOSTS.getBytes(StandardCharsets.UTF_8));
        assertEquals(200, m.status());
        assertEquals("MethodResponse", m.header("73-CIMOperation"));
        assertEquals(2, m.returned().size());
    }

    @Test
    void chunkedAnswersCarryTheStatusInATrailer() {
        Response ok = rawExchange(request(server, ENUMERATE_HOSTS, "EnumerateInstanceNames", "root%2Fvirtualization", "TE: trailers\r\n"));
        assertEquals(200, ok.status);
        assertTrue(ok.headers.toLowerCase().contains("transfer-encoding: chunked"), ok.headers);
        assertTrue(ok.trailers.contains("CIMStatusCode: 0"), ok.trailers);
        assertTrue(ok.body.contains("<INSTANCENAME CLASSNAME=\"Ferry_HostSystem\">"), ok.body);
        String bad = RawClient.intrinsicBody("GetClass", "root/virtualization", RawClient.className("ClassName", "No_Such"));
        Response err = rawExchange(request(server, bad, "GetClass", "root/virtualization", "TE: trailers\r\n"));
        assertTrue(err.trailers.contains("CIMStatusCode: 5"), err.trailers);
        assertTrue(err.trailers.contains("CIM_ERR_INVALID_CLASS"), err.trailers);
    }

    @Test
    void unknownNamespacesAndClassesGetTheirCodes() {
        assertEquals(3, admin.call("EnumerateInstanceNames", "root/cimv2", RawClient.className("ClassName", "CIM_ComputerSystem")).code());
        assertEquals(5, admin.call("EnumerateInstanceNames", "root/virtualization", RawClient.className("ClassName", "Xen_Nothing")).code());
        assertEquals(7, admin.call("CreateClass", "root/virtualization", "").code());
        assertEquals(7, admin.call("Frobnicate", "root/virtualization", "").code());
        assertEquals(4, admin.call("EnumerateInstanceNames", "root/virtualization", RawClient.className("ClassName", "Ferry_HostSystem")
                + RawClient.value("Bogus", "1")).code());
    }

    // ---- raw HTTP ----

    record Response(int status, String headers, String body, String trailers) {}

    static String request(TestServer server, String body, String method, String object, String extra) {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        return "POST /cimom HTTP/1.1\r\nHost: 127.0.0.1:" + server.httpPort() + "\r\nContent-Type: application/xml; charset=\"utf-8\"\r\n"
                + "CIMOperation: MethodCall\r\nCIMMethod: " + method + "\r\nCIMObject: " + object + "\r\n"
                + "Authorization: Basic " + java.util.Base64.getEncoder().encodeToString((TestServer.ADMIN + ":" + TestServer.PASSWORD)
                        .getBytes(StandardCharsets.UTF_8)) + "\r\n" + extra + "Content-Length: " + b.length + "\r\n\r\n" + body;
    }

    static Response rawExchange(String request) {
        return rawExchange(server, request);
    }

    static Response rawExchange(TestServer server, String request) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.httpPort())) {
            s.setSoTimeout(20_000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.UTF_8));
            out.flush();
            return read(s.getInputStream());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** One HTTP/1.1 response: status, header block, body (Content-Length or chunked) and trailers. */
    static Response read(InputStream in) throws IOException {
        String head = line(in);
        int status = Integer.parseInt(head.split(" ")[1]);
        StringBuilder headers = new StringBuilder();
        long length = -1;
        boolean chunked = false;
        for (String l = line(in); !l.isEmpty(); l = line(in)) {
            headers.append(l).append('\n');
            String lower = l.toLowerCase();
            if (lower.startsWith("content-length:")) {
                length = Long.parseLong(l.substring(15).trim());
            }
            if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
                chunked = true;
            }
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        StringBuilder trailers = new StringBuilder();
        if (chunked) {
            while (true) {
                int size = Integer.parseInt(line(in).split(";")[0].trim(), 16);
                if (size == 0) {
                    for (String l = line(in); !l.isEmpty(); l = line(in)) {
                        trailers.append(l).append('\n');
                    }
                    break;
                }
                body.write(in.readNBytes(size));
                line(in);
            }
        } else if (length > 0) {
            body.write(in.readNBytes((int) length));
        }
        return new Response(status, headers.toString(), body.toString(StandardCharsets.UTF_8), trailers.toString());
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != -1 && c != '\n') {
            if (c != '\r') {
                b.write(c);
            }
        }
        return b.toString(StandardCharsets.UTF_8);
    }

    private static void assertRefused(RawClient.Answer a, int status, String cimError) {
        assertEquals(status, a.status(), a.body());
        assertEquals(cimError, a.header("CIMError"));
        assertNull(a.response());
        assertNotNull(a.body());
    }
}
