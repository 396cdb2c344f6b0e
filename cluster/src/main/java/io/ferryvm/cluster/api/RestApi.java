package io.ferryvm.cluster.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ferryvm.cluster.agent.AgentProtocol;
import io.ferryvm.cluster.agent.AgentProtocol.ErrorKind;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol;
import io.ferryvm.core.VmSpecJson;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.marshalling.sse.EventStreamMarshalling;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.sse.ServerSentEvent;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.SourceQueueWithComplete;

/**
 * The REST/JSON API, the event stream (server-sent events), Prometheus metrics and the web console, on
 * one port. Errors are JSON {@code {"code": ..., "message": ...}}: bad input is a 4xx, never a 500.
 *
 * <pre>
 * GET    /api/hosts                     GET /api/hosts/{host}        POST /api/hosts/{host}/evacuate
 * GET    /api/vms                       POST /api/vms[?start=true&host=h]  (a VmDefinition)
 * POST   /api/vms/import {source, start, host}  (an OVF or OVA package: path or URI)
 * GET    /api/vms/{vm}                  POST /api/vms/{vm}/start|pause|resume|stop|check   DELETE /api/vms/{vm}
 * GET    /api/migrations                POST /api/migrations {vm, to, options}   GET|DELETE /api/migrations/{id}
 * POST   /api/vms/import/upload?name=x.ova[&start=&host=]  (the package as the body)
 * POST   /api/rebalance[?max=N]         GET /api/events (text/event-stream)       GET /metrics
 * </pre>
 */
public final class RestApi extends AllDirectives {
    static final ObjectMapper JSON = VmSpecJson.mapper(false);
    static final ObjectMapper STRICT = VmSpecJson.mapper(true);
    /** One line per event: SSE data lines. */
    static final ObjectMapper COMPACT = VmSpecJson.mapper(false).copy()
            .disable(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT);
    private static final int MAX_BODY = 1 << 20;

    /** A migration request as posted. */
    public record MigrationRequestBody(String vm, String to, MigrationOptions options) {}

    /** The JSON error body. */
    public record ApiError(String code, String message) {}

    /** An OVF/OVA import request: the package (path, file:, http(s):, tar:, zip: URI), start the VMs?, on which host. */
    public record ImportRequest(String source, Boolean start, String host) {
        public boolean startNow() {
            return start != null && start;
        }
    }

    /** What an import defined, with the importer's warnings and findings. */
    public record ImportResult(List<OrchestratorProtocol.VmView> vms, List<String> warnings, String summary) {}

    private final ClusterApi api;
    private final ActorSystem<?> system;
    private final Metrics metrics;
    private final OvfImports imports;

    public RestApi(ClusterApi api, ActorSystem<?> system, java.nio.file.Path imagesDir, NodeMetrics nodeMetrics) {
        this.api = api;
        this.system = system;
        this.metrics = new Metrics(api, system, nodeMetrics);
        this.imports = new OvfImports(api, imagesDir);
    }

    /** How long the server waits for a request's whole body (at most max-content-length) before answering. */
    private static final Duration BODY_READ = Duration.ofSeconds(60);

    public Route routes() {
        return handleExceptions(exceptions(), () -> handleRejections(rejections(), () -> concat(
                uploadRoute(),
                // Every other request's body (bounded by max-content-length) is read before it is answered: an
                // answer sent while the client still sends (a 404 for a 2 MiB body, say) was sometimes lost with
                // the reset that closing a connection with unread bytes causes, so the client saw no answer.
                toStrictEntity(BODY_READ, () -> concat(
                        pathPrefix("api", () -> concat(hostRoutes(), vmRoutes(), migrationRoutes(), eventRoutes(),
                                path("rebalance", () -> post(() -> parameterOptional("max", max -> plan(api.rebalance(
                                        max.map(RestApi::parseInt).orElse(4)))))))),
                        path("metrics", () -> get(() -> completeWithFuture(metrics.scrape()))),
                        pathEndOrSingleSlash(() -> get(() -> getFromResource("console/index.html", ContentTypes.TEXT_HTML_UTF8))),
                        pathPrefix("console", () -> getFromResourceDirectory("console")))))));
    }

    /** The package itself as the body (the console's upload): streamed to images/uploads, imported, removed. */
    private Route uploadRoute() {
        return path(PathMatchers.segment("api").slash("vms").slash("import").slash("upload"), () -> post(() -> parameterOptional("name", name ->
                parameterOptional("start", start -> parameterOptional("host", host -> withoutSizeLimit(() ->
                        extractRequestEntity(entity -> completeWithFuture(imports.upload(entity.getDataBytes(),
                                name.orElse("upload.ova"), start.map(Boolean::parseBoolean).orElse(true), host.orElse(null), system)
                                .thenApply(r -> json(StatusCodes.CREATED, r)).exceptionally(RestApi::importError)))))))));
    }

    // ---- hosts ----

    private Route hostRoutes() {
        return pathPrefix("hosts", () -> concat(
                pathEnd(() -> get(() -> completeWithFuture(api.hosts().thenApply(l -> ok(l.hosts()))))),
                pathPrefix(PathMatchers.segment(), host -> concat(
                        pathEnd(() -> get(() -> completeWithFuture(api.hosts().thenApply(l -> l.hosts().stream()
                                .filter(h -> h.host().equals(host)).findFirst().map(RestApi::ok)
                                .orElse(error(ErrorKind.NOT_FOUND, "no host '" + host + "' in the cluster")))))),
                        path("evacuate", () -> post(() -> plan(api.evacuate(host))))))));
    }

    private Route plan(CompletionStage<OrchestratorProtocol.PlanAccepted> p) {
        return completeWithFuture(p.thenApply(a -> a.ok() ? json(StatusCodes.ACCEPTED, a) : error(a.error(), a.message())));
    }

    // ---- VMs ----

    private Route vmRoutes() {
        return pathPrefix("vms", () -> concat(
                pathEnd(() -> concat(
                        get(() -> completeWithFuture(api.vms().thenApply(l -> ok(l.vms())))),
                        post(() -> parameterOptional("start", start -> parameterOptional("host", host ->
                                body(VmDefinition.class, def -> completeWithFuture(api.define(def.toSpec(), host.orElse(null),
                                        start.map(Boolean::parseBoolean).orElse(false)).thenApply(r -> result(r, StatusCodes.CREATED))))))))),
                path("import", () -> post(() -> body(ImportRequest.class, req -> completeWithFuture(imports.run(req)
                        .thenApply(r -> json(StatusCodes.CREATED, r)).exceptionally(RestApi::importError))))),
                pathPrefix(PathMatchers.segment(), vm -> concat(
                        pathEnd(() -> concat(
                                get(() -> completeWithFuture(api.vm(vm).thenApply(r -> result(r, StatusCodes.OK)))),
                                delete(() -> completeWithFuture(api.act(vm, AgentProtocol.Op.UNDEFINE)
                                        .thenApply(r -> r.ok() ? HttpResponse.create().withStatus(StatusCodes.NO_CONTENT)
                                                : result(r, StatusCodes.OK)))))),
                        path("start", () -> post(() -> act(vm, AgentProtocol.Op.START))),
                        path("pause", () -> post(() -> act(vm, AgentProtocol.Op.PAUSE))),
                        path("resume", () -> post(() -> act(vm, AgentProtocol.Op.RESUME))),
                        path("stop", () -> post(() -> act(vm, AgentProtocol.Op.STOP))),
                        path("check", () -> post(() -> completeWithFuture(api.checkGuest(vm).thenApply(c -> c.vm() == null
                                ? error(ErrorKind.NOT_FOUND, c.detail()) : ok(c)))))))));
    }

    private Route act(String vm, AgentProtocol.Op op) {
        return completeWithFuture(api.act(vm, op).thenApply(r -> result(r, StatusCodes.OK)));
    }

    // ---- migrations ----

    private Route migrationRoutes() {
        return pathPrefix("migrations", () -> concat(
                pathEnd(() -> concat(
                        get(() -> completeWithFuture(api.migrations().thenApply(l -> ok(l.migrations())))),
                        post(() -> body(MigrationRequestBody.class, b -> {
                            if (b.vm() == null || b.vm().isBlank()) {
                                return complete(error(ErrorKind.INVALID, "field 'vm' is required"));
                            }
                            MigrationOptions o = b.options() == null ? MigrationOptions.DEFAULT : b.options();
                            return completeWithFuture(api.migrate(b.vm(), b.to(), o).thenApply(a -> a.ok()
                                    ? json(StatusCodes.ACCEPTED, a) : error(a.error(), a.message())));
                        })))),
                pathPrefix(PathMatchers.segment(), id -> {
                    Optional<UUID> uuid = uuid(id);
                    if (uuid.isEmpty()) {
                        return complete(error(ErrorKind.INVALID, "'" + id + "' is not a migration id"));
                    }
                    return pathEnd(() -> concat(
                            get(() -> completeWithFuture(api.migrations().thenApply(l -> l.migrations().stream()
                                    .filter(m -> m.migrationId().equals(uuid.get())).findFirst().map(RestApi::ok)
                                    .orElse(error(ErrorKind.NOT_FOUND, "no migration " + id))))),
                            delete(() -> completeWithFuture(api.cancelMigration(uuid.get())
                                    .thenApply(r -> result(r, StatusCodes.ACCEPTED))))));
                })));
    }

    // ---- events (SSE) ----

    private Route eventRoutes() {
        return path("events", () -> get(() -> {
            Source<ServerSentEvent, NotUsed> events = Source.<ServerSentEvent>queue(512, OverflowStrategy.dropHead())
                    .mapMaterializedValue(queue -> {
                        ActorRef<Object> fwd = system.systemActorOf(forwarder(queue), "sse-" + UUID.randomUUID(),
                                org.apache.pekko.actor.typed.Props.empty());
                        api.subscribe(fwd.narrow());
                        queue.watchCompletion().whenComplete((d, e) -> {
                            api.unsubscribe(fwd.narrow());
                            fwd.tell(Stop.INSTANCE);
                        });
                        return NotUsed.getInstance();
                    })
                    .keepAlive(Duration.ofSeconds(15), ServerSentEvent::heartbeat);
            return completeOK(events, EventStreamMarshalling.toEventStream());
        }));
    }

    private enum Stop implements org.apache.pekko.actor.NoSerializationVerificationNeeded { INSTANCE }

    /** Forwards cluster events into one SSE client's queue until told to stop (the client went). */
    private static Behavior<Object> forwarder(SourceQueueWithComplete<ServerSentEvent> queue) {
        return Behaviors.receive(Object.class)
                .onMessage(ClusterEvent.class, e -> {
                    queue.offer(ServerSentEvent.create(COMPACT.writeValueAsString(e), e.type()));
                    return Behaviors.same();
                })
                .onMessageEquals(Stop.INSTANCE, Behaviors::stopped)
                .build();
    }

    // ---- plumbing ----

    private <T> Route body(Class<T> type, Function<T, Route> inner) {
        return entity(Unmarshaller.entityToString(), text -> {
            if (text.length() > MAX_BODY) {
                return complete(json(StatusCodes.PAYLOAD_TOO_LARGE, new ApiError("too_large", "body over " + MAX_BODY + " bytes")));
            }
            T value;
            try {
                value = STRICT.readValue(text, type);
            } catch (JsonProcessingException e) {
                return complete(error(ErrorKind.INVALID, "malformed JSON: " + VmSpecJson.describe(e)));
            }
            if (value == null) {
                return complete(error(ErrorKind.INVALID, "empty body"));
            }
            try {
                return inner.apply(value);
            } catch (IllegalArgumentException e) {
                return complete(error(ErrorKind.INVALID, e.getMessage()));
            }
        });
    }

    private static HttpResponse importError(Throwable t) {
        Throwable c = t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
        if (c instanceof io.ferryvm.ovf.OvfException || c instanceof IllegalArgumentException) {
            return error(ErrorKind.INVALID, c.getMessage());
        }
        if (c instanceof OvfImports.DefineFailed d) {
            return error(d.kind(), d.getMessage());
        }
        return error(ErrorKind.FAILED, "import failed: " + c);
    }

    static HttpResponse result(OrchestratorProtocol.Result r, StatusCode okStatus) {
        if (!r.ok()) {
            return error(r.error(), r.message());
        }
        return r.vm() == null ? HttpResponse.create().withStatus(okStatus) : json(okStatus, r.vm());
    }

    static HttpResponse ok(Object body) {
        return json(StatusCodes.OK, body);
    }

    static HttpResponse json(StatusCode status, Object body) {
        return HttpResponse.create().withStatus(status)
                .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, toJson(body).getBytes(StandardCharsets.UTF_8)));
    }

    static String toJson(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode " + o.getClass().getSimpleName(), e);
        }
    }

    static HttpResponse error(ErrorKind kind, String message) {
        StatusCode s = switch (kind) {
            case NOT_FOUND -> StatusCodes.NOT_FOUND;
            case ILLEGAL, ALREADY_EXISTS -> StatusCodes.CONFLICT;
            case INVALID -> StatusCodes.BAD_REQUEST;
            case RESOURCES -> StatusCodes.UNPROCESSABLE_ENTITY;
            case UNAVAILABLE -> StatusCodes.SERVICE_UNAVAILABLE;
            case NONE, FAILED -> StatusCodes.INTERNAL_SERVER_ERROR;
        };
        return json(s, new ApiError(kind.name().toLowerCase(), message));
    }

    private static Optional<UUID> uuid(String s) {
        try {
            return Optional.of(UUID.fromString(s));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private static int parseInt(String s) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + s + "' is not a number");
        }
    }

    private static RejectionHandler rejections() {
        return RejectionHandler.defaultHandler().mapRejectionResponse(resp -> {
            if (resp.entity() instanceof org.apache.pekko.http.javadsl.model.HttpEntity.Strict strict
                    && !strict.getContentType().equals(ContentTypes.APPLICATION_JSON)) {
                String msg = strict.getData().utf8String();
                return resp.withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON,
                        toJson(new ApiError(codeOf(resp.status().intValue()), msg))));
            }
            return resp;
        });
    }

    private static String codeOf(int status) {
        return switch (status) {
            case 404 -> "not_found";
            case 405 -> "method_not_allowed";
            case 400 -> "invalid";
            case 413 -> "too_large";
            case 415 -> "unsupported_media_type";
            default -> "error_" + status;
        };
    }

    /**
     * A body that cannot be read (over max-content-length, broken chunked framing) fails while it is read
     * before routing (see {@link #routes}): the client's fault, answered with its 4xx and a JSON reason.
     */
    private static Optional<HttpResponse> malformedBody(Throwable c) {
        if (c instanceof org.apache.pekko.http.scaladsl.model.IllegalRequestException r) {
            return Optional.of(json(r.status(), new ApiError(ErrorKind.INVALID.name().toLowerCase(), r.getMessage())));
        }
        if (c instanceof org.apache.pekko.http.scaladsl.model.EntityStreamSizeException t) {
            return Optional.of(json(StatusCodes.PAYLOAD_TOO_LARGE, new ApiError(ErrorKind.INVALID.name().toLowerCase(), t.getMessage())));
        }
        return Optional.empty();
    }

    private ExceptionHandler exceptions() {
        return ExceptionHandler.newBuilder()
                .match(IllegalArgumentException.class, e -> complete(error(ErrorKind.INVALID, e.getMessage())))
                .match(java.util.concurrent.TimeoutException.class,
                        e -> complete(error(ErrorKind.UNAVAILABLE, "the cluster did not answer in time: " + e.getMessage())))
                .match(Throwable.class, e -> {
                    Throwable c = e.getCause() != null && (e instanceof java.util.concurrent.CompletionException) ? e.getCause() : e;
                    if (c instanceof java.util.concurrent.TimeoutException) {
                        return complete(error(ErrorKind.UNAVAILABLE, "the cluster did not answer in time"));
                    }
                    if (c instanceof IllegalArgumentException) {
                        return complete(error(ErrorKind.INVALID, c.getMessage()));
                    }
                    Optional<HttpResponse> refused = malformedBody(c);
                    if (refused.isPresent()) {
                        return complete(refused.get());
                    }
                    system.log().error("API request failed", c);
                    return complete(error(ErrorKind.FAILED, "internal error: " + c));
                })
                .build();
    }
}
