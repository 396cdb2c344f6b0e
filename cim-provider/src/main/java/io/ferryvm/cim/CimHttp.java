package io.ferryvm.cim;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One CIM-XML request over HTTP (DSP0200 section 7), in the order the standard and hostile clients
 * call for:
 *
 * <pre>
 *   POST or M-POST, else 405 -> declared Content-Length within the limit, else 413 -> credentials, else
 *   401 (always: no request is served without them) -> CIM headers (CIMOperation, CIMBatch, CIMProtocolVersion,
 *   CIMMethod, CIMObject, Content-Type), else 400/501 with a CIMError header -> body read within the limit
 *   -> secure XML parse, else 400 request-not-well-formed -> CIM-XML decode -> headers match the body,
 *   else 400 header-mismatch -> the operation on a worker (queue full: 503) -> 200 with the response,
 *   chunked with CIMStatusCode trailers when the client sent "TE: trailers".
 * </pre>
 *
 * Whatever a request does, the connection keeps serving the next one (a 413 closes it, because the
 * unread body is still on it).
 */
final class CimHttp {
    private static final Logger LOG = LoggerFactory.getLogger(CimHttp.class);
    static final ContentType XML = ContentTypes.create(MediaTypes.APPLICATION_XML, HttpCharsets.UTF_8);
    /** "Connection: close" as Pekko's own header: it then closes the connection after the response. */
    static final HttpHeader CLOSE = org.apache.pekko.http.javadsl.model.headers.Connection.create("close");
    private static final XmlTree.Limits LIMITS = XmlTree.Limits.DEFAULT;

    private final Authenticator auth;
    private final Operations operations;
    private final ExecutorService workers;
    private final Materializer mat;
    private final long maxContentLength;
    private final String defaultHost;

    CimHttp(Authenticator auth, Operations operations, ExecutorService workers, Materializer mat, long maxContentLength,
            String defaultHost) {
        this.auth = auth;
        this.operations = operations;
        this.workers = workers;
        this.mat = mat;
        this.maxContentLength = maxContentLength;
        this.defaultHost = defaultHost;
    }

    /** The CIM headers of one request; M-POST prefixes them with the Man header's namespace ("73-CIMMethod"). */
    private static final class Headers {
        private final HttpRequest req;
        private final String prefix;

        Headers(HttpRequest req, boolean mpost) {
            this.req = req;
            String p = "";
            if (mpost) {
                String man = raw(req, "Man");
                if (man != null) {
                    int ns = man.indexOf("ns=");
                    if (ns >= 0) {
                        String digits = man.substring(ns + 3).replaceAll("[^0-9].*$", "");
                        if (!digits.isEmpty()) {
                            p = digits + "-";
                        }
                    }
                }
            }
            this.prefix = p;
        }

        String get(String name) {
            String v = raw(req, prefix + name);
            return v == null && !prefix.isEmpty() ? raw(req, name) : v;
        }

        String prefix() {
            return prefix;
        }
    }

    static String raw(HttpRequest req, String name) {
        Optional<HttpHeader> h = req.getHeader(name);
        return h.map(HttpHeader::value).orElse(null);
    }

    /** Answers one request; lastOnConnection asks the client to close (keep-alive limit). */
    CompletionStage<HttpResponse> handle(HttpRequest req, InetSocketAddress remote, boolean lastOnConnection) {
        String client = remote == null ? "?" : remote.getAddress().getHostAddress() + ":" + remote.getPort();
        CompletionStage<HttpResponse> r;
        try {
            r = handle(req, client);
        } catch (RuntimeException e) {
            LOG.warn("CIM request from {} failed: {}", client, e.toString(), e);
            req.discardEntityBytes(mat);
            r = CompletableFuture.completedFuture(text(500, null, "internal error"));
        }
        return r.thenApply(resp -> lastOnConnection ? resp.addHeader(CLOSE) : resp);
    }

    private CompletionStage<HttpResponse> handle(HttpRequest req, String client) {
        String method = req.method().value();
        boolean mpost = method.equals("M-POST");
        if (!method.equals("POST") && !mpost) {
            req.discardEntityBytes(mat);
            return done(text(405, null, "CIM operations are POST or M-POST requests").addHeader(RawHeader.create("Allow", "POST, M-POST")));
        }
        long declared = req.entity().getContentLengthOption().orElse(-1L);
        if (declared > maxContentLength) {
            req.discardEntityBytes(mat);
            LOG.warn("CIM request of {} bytes from {} refused: the limit is {}", declared, client, maxContentLength);
            return done(text(413, null, "the request body is larger than " + maxContentLength + " bytes")
                    .addHeader(CLOSE));
        }
        String authorization = raw(req, "Authorization");
        CompletableFuture<Optional<CimUser>> user;
        try {
            user = CompletableFuture.supplyAsync(() -> auth.authenticate(authorization, client), workers);
        } catch (RejectedExecutionException e) {
            req.discardEntityBytes(mat);
            return done(busy());
        }
        return user.thenCompose(u -> {
            if (u.isEmpty()) {
                req.discardEntityBytes(mat);
                // the connection closes after a 401: the Java WBEM client otherwise sends its authenticated retry twice,
                // on a new connection and again on this one (a second CreateInstance would fail ALREADY_EXISTS)
                return done(text(401, null, "authentication required").addHeader(
                        RawHeader.create("WWW-Authenticate", "Basic realm=\"ferry-cim\", charset=\"UTF-8\"")).addHeader(CLOSE));
            }
            Headers h = new Headers(req, mpost);
            HttpRefusal refusal = checkHeaders(req, h);
            if (refusal != null) {
                req.discardEntityBytes(mat);
                return done(refused(refusal, client));
            }
            return req.entity().toStrict(30_000, maxContentLength, mat).thenComposeAsync(strict -> {
                try {
                    return done(execute(req, h, u.get(), strict.getData().toArray(), client));
                } catch (RejectedExecutionException e) {
                    return done(busy());
                }
            }, workers);
        }).exceptionally(e -> {
            Throwable t = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (t instanceof RejectedExecutionException) {
                return busy();
            }
            if (t instanceof org.apache.pekko.http.scaladsl.model.EntityStreamSizeException) {
                LOG.warn("CIM request from {} refused: body over {} bytes", client, maxContentLength);
                return text(413, null, "the request body is larger than " + maxContentLength + " bytes")
                        .addHeader(CLOSE);
            }
            LOG.warn("CIM request from {} failed: {}", client, t.toString());
            return text(400, "request-not-valid", "the request could not be read: " + t.getMessage());
        });
    }

    private static CompletionStage<HttpResponse> done(HttpResponse r) {
        return CompletableFuture.completedFuture(r);
    }

    private static HttpResponse busy() {
        return text(503, null, "the CIM server is busy: retry later").addHeader(RawHeader.create("Retry-After", "1"));
    }

    /** The header checks that need no body (DSP0200 7.2 and 7.3). */
    private static HttpRefusal checkHeaders(HttpRequest req, Headers h) {
        String op = h.get("CIMOperation");
        if (op == null || !op.trim().equalsIgnoreCase("MethodCall")) {
            return new HttpRefusal(400, "unsupported-operation", op == null ? "the CIMOperation header is missing"
                    : "CIMOperation '" + CimObjectPath.abbreviate(op) + "' is not MethodCall");
        }
        if (h.get("CIMBatch") != null) {
            return new HttpRefusal(501, "multiple-requests-unsupported", "batched (CIMBatch) requests are not supported");
        }
        String version = h.get("CIMProtocolVersion");
        if (version != null && !version.trim().startsWith("1.")) {
            return new HttpRefusal(501, "unsupported-protocol-version", "CIMProtocolVersion " + CimObjectPath.abbreviate(version)
                    + " is not supported (1.x is)");
        }
        if (h.get("CIMMethod") == null || h.get("CIMMethod").isBlank()) {
            return new HttpRefusal(400, "header-mismatch", "the CIMMethod header is missing");
        }
        if (h.get("CIMObject") == null || h.get("CIMObject").isBlank()) {
            return new HttpRefusal(400, "header-mismatch", "the CIMObject header is missing");
        }
        String ct = raw(req, "Content-Type");
        if (ct == null) {
            ct = req.entity().getContentType().mediaType().isApplication() || req.entity().getContentType().mediaType().isText()
                    ? req.entity().getContentType().mediaType().toString() : null;
            if (ct != null && ct.equals("application/octet-stream")) {
                ct = null; // Pekko's default for a body without a Content-Type
            }
        }
        if (ct == null) {
            return new HttpRefusal(400, "request-not-valid", "the Content-Type header is missing (application/xml)");
        }
        String media = ct.toLowerCase(Locale.ROOT).split(";")[0].trim();
        if (!media.equals("application/xml") && !media.equals("text/xml")) {
            return new HttpRefusal(400, "request-not-valid", "Content-Type " + CimObjectPath.abbreviate(media)
                    + " is not application/xml or text/xml");
        }
        String host = raw(req, "Host");
        if (host != null && (host.contains("/") || host.startsWith("."))) {
            return new HttpRefusal(400, "request-not-valid", "the Host header is malformed");
        }
        return null;
    }

    private HttpResponse execute(HttpRequest req, Headers h, CimUser user, byte[] body, String client) {
        CimRequest request;
        try {
            XmlTree.Node root = XmlTree.parse(body, LIMITS);
            request = CimXmlReader.request(root);
            checkMatch(request, h);
        } catch (XmlTree.MalformedXml e) {
            return refused(new HttpRefusal(400, "request-not-well-formed", "the body is not well-formed CIM-XML: " + e.getMessage()),
                    client);
        } catch (HttpRefusal e) {
            return refused(e, client);
        } catch (CimException e) {
            return refused(new HttpRefusal(400, "request-not-valid", e.getMessage()), client);
        }
        StringBuilder out = new StringBuilder(8192);
        CimXmlWriter w = new CimXmlWriter(out, hostFor(req));
        w.begin(request.messageId());
        int code = operations.execute(request, user, w);
        w.end();
        if (LOG.isDebugEnabled()) {
            LOG.debug("{} {} {} by {} from {}: {}", request.method(), request.namespace(),
                    request.target() == null ? "" : request.target(), user.name(), client, code);
        }
        byte[] bytes = out.toString().getBytes(StandardCharsets.UTF_8);
        HttpResponse resp = HttpResponse.create().withStatus(200)
                .addHeader(RawHeader.create(h.prefix() + "CIMOperation", "MethodResponse"));
        if (!h.prefix().isEmpty()) {
            resp = resp.addHeader(RawHeader.create("Ext", ""));
        }
        String te = raw(req, "TE");
        if (te != null && te.toLowerCase(Locale.ROOT).contains("trailers")) {
            return resp.addHeader(RawHeader.create("Trailer", "CIMStatusCode, CIMStatusCodeDescription")).withEntity(chunked(bytes, code));
        }
        return resp.withEntity(XML, bytes);
    }

    /** A chunked body whose last chunk carries CIMStatusCode (and its description) as trailers. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static HttpEntity.Chunked chunked(byte[] body, int code) {
        List<HttpHeader> trailers = new ArrayList<>();
        trailers.add(RawHeader.create("CIMStatusCode", Integer.toString(code)));
        if (code != 0) {
            for (CimStatus s : CimStatus.values()) {
                if (s.code() == code) {
                    trailers.add(RawHeader.create("CIMStatusCodeDescription", s.cimName()));
                }
            }
        }
        List<HttpEntity.ChunkStreamPart> parts = new ArrayList<>();
        for (int off = 0; off < body.length; off += 64 * 1024) {
            parts.add(HttpEntity.ChunkStreamPart.create(ByteString.fromArray(body, off, Math.min(64 * 1024, body.length - off))));
        }
        parts.add(HttpEntity.ChunkStreamPart.createLast("", trailers));
        Source source = Source.from(parts);
        return (HttpEntity.Chunked) org.apache.pekko.http.scaladsl.model.HttpEntity.Chunked$.MODULE$.apply(
                (org.apache.pekko.http.scaladsl.model.ContentType) XML, source.asScala());
    }

    /** CIMMethod and CIMObject must say what the body says (DSP0200 7.3.2, 7.3.3). */
    private static void checkMatch(CimRequest r, Headers h) throws HttpRefusal {
        if (!h.get("CIMMethod").trim().equalsIgnoreCase(r.method())) {
            throw new HttpRefusal(400, "header-mismatch", "CIMMethod " + CimObjectPath.abbreviate(h.get("CIMMethod"))
                    + " does not match the body's " + r.method());
        }
        String object = percentDecode(h.get("CIMObject").trim());
        if (r.intrinsic()) {
            if (!Namespaces.normalize(object).equalsIgnoreCase(r.namespace())) {
                throw new HttpRefusal(400, "header-mismatch", "CIMObject " + CimObjectPath.abbreviate(object)
                        + " does not match the body's namespace " + r.namespace());
            }
            return;
        }
        CimObjectPath header;
        try {
            header = CimObjectPath.parse(object);
        } catch (CimException e) {
            throw new HttpRefusal(400, "header-mismatch", "CIMObject " + CimObjectPath.abbreviate(object) + " is not an object path");
        }
        CimObjectPath body = r.target();
        boolean nsMatch = header.namespace() != null && header.namespace().equalsIgnoreCase(body.namespace());
        if (!nsMatch || !header.withNamespace(body.namespace()).equals(body)) {
            throw new HttpRefusal(400, "header-mismatch", "CIMObject " + CimObjectPath.abbreviate(object)
                    + " does not match the body's " + body);
        }
    }

    /** RFC 3986 %-decoding ('+' stays '+'); malformed escapes are left as they are. */
    static String percentDecode(String s) {
        if (s.indexOf('%') < 0) {
            return s;
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%' && i + 2 < s.length() && Character.digit(s.charAt(i + 1), 16) >= 0 && Character.digit(s.charAt(i + 2), 16) >= 0) {
                out.write(Integer.parseInt(s.substring(i + 1, i + 3), 16));
                i += 2;
            } else {
                byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                out.write(b, 0, b.length);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private String hostFor(HttpRequest req) {
        String host = raw(req, "Host");
        if (host != null && host.matches("[A-Za-z0-9.:\\[\\]-]{1,255}")) {
            return host;
        }
        return defaultHost;
    }

    private static HttpResponse refused(HttpRefusal e, String client) {
        LOG.info("CIM request from {} refused ({} {}): {}", client, e.status(), e.cimError(), e.getMessage());
        return text(e.status(), e.cimError(), e.getMessage());
    }

    static HttpResponse text(int status, String cimError, String message) {
        HttpResponse r = HttpResponse.create().withStatus(status)
                .withEntity(ContentTypes.TEXT_PLAIN_UTF8, (message + "\n").getBytes(StandardCharsets.UTF_8));
        return cimError == null ? r : r.addHeader(RawHeader.create("CIMError", cimError));
    }
}
