package io.ferryvm.cim;

import com.typesafe.config.ConfigFactory;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.ClassicActorSystemProvider;
import org.apache.pekko.http.javadsl.ConnectionContext;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.IncomingConnection;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.ServerBuilder;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.RequestEntityAcceptances;
import org.apache.pekko.http.javadsl.settings.ParserSettings;
import org.apache.pekko.http.javadsl.settings.ServerSettings;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running CIM server: CIM-XML over HTTP and HTTPS (Pekko HTTP) for the classes and profiles in the
 * README, backed by a {@link CimBackend}. Start it on an actor system the caller owns; close it to stop
 * listening and end its threads.
 */
public final class CimServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CimServer.class);
    private static final ClassRepository REPOSITORY = ClassRepository.load();

    private final CimServerConfig config;
    private final ExecutorService workers;
    private final ExecutorService steps;
    private final ExecutorService indicationWorker;
    private final Indications indications;
    private final TlsIdentity tls;
    private final List<ServerBinding> bindings = new ArrayList<>();
    private String httpUrl;
    private String httpsUrl;

    private CimServer(CimServerConfig config, CimBackend backend, ClassicActorSystemProvider system) {
        this.config = config;
        Clock clock = Clock.systemUTC();
        this.workers = new ThreadPoolExecutor(config.limits().workers(), config.limits().workers(), 60, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(config.limits().queue()), threads("ferry-cim-worker"), new ThreadPoolExecutor.AbortPolicy());
        this.steps = Executors.newSingleThreadExecutor(threads("ferry-cim-jobs"));
        // a listener that cannot keep up loses the oldest of 10,000 waiting indications, not the server its memory
        this.indicationWorker = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(10_000),
                threads("ferry-cim-indications"), (r, pool) -> {
                    LOG.warn("indication queue full: dropping the oldest indication");
                    new ThreadPoolExecutor.DiscardOldestPolicy().rejectedExecution(r, pool);
                });
        MigrationJobs jobs = new MigrationJobs(backend, clock, steps);
        Subscriptions subscriptions = new Subscriptions(new ListenerPolicy(config.listenerAllowList()), config.systemName());
        Services services = new Services(REPOSITORY, backend, new RequestedStates(), jobs, subscriptions, clock);
        List<Provider> providers = new ArrayList<>();
        VirtualSystemProfile.register(providers);
        HostProfile.register(providers);
        MigrationProfile.register(providers);
        ProfileRegistration.register(providers);
        subscriptions.register(providers);
        Operations operations = new Operations(services, providers, new PullContexts(clock));
        this.tls = config.httpsPort() < 0 ? null : config.keyStore() != null
                ? TlsIdentity.load(config.keyStore(), config.keyStorePassword() == null ? new char[0] : config.keyStorePassword().toCharArray())
                : TlsIdentity.selfSigned(config.stateDir(), config.host());
        this.indications = new Indications(services, config.host(), indicationWorker);
        Materializer mat = Materializer.matFromSystem(system);
        CimHttp http = new CimHttp(new Authenticator(config.users(), clock), operations, workers, mat,
                config.limits().maxContentLength(), config.host());
        try {
            indications.start();
            if (config.httpPort() >= 0) {
                ServerBinding b = bind(system, mat, http, config.httpPort(), false);
                httpUrl = "http://" + hostForUrl() + ":" + b.localAddress().getPort();
            }
            if (config.httpsPort() >= 0) {
                ServerBinding b = bind(system, mat, http, config.httpsPort(), true);
                httpsUrl = "https://" + hostForUrl() + ":" + b.localAddress().getPort();
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        LOG.info("CIM server serves {} {} for users {}", httpUrl == null ? "" : httpUrl, httpsUrl == null ? "" : httpsUrl,
                config.users().stream().map(CimUser::name).toList());
    }

    /** Starts serving; fails (and releases everything) when a port cannot be bound. */
    public static CimServer start(CimServerConfig config, CimBackend backend, ClassicActorSystemProvider system) {
        return new CimServer(config, backend, system);
    }

    private String hostForUrl() {
        String h = config.host();
        return h.contains(":") ? "[" + h + "]" : h;
    }

    private ServerBinding bind(ClassicActorSystemProvider system, Materializer mat, CimHttp http, int port, boolean https) {
        CimServerConfig.Limits limits = config.limits();
        ServerSettings settings = ServerSettings.create(ConfigFactory.parseString(
                "pekko.http.server.idle-timeout = " + limits.idleTimeout().toMillis() + "ms\n"
                        + "pekko.http.server.request-timeout = 120s\n"
                        + "pekko.http.server.server-header = \"\"\n"
                        + "pekko.http.server.max-connections = " + (limits.maxConnections() + 16) + "\n"
                        + "pekko.http.server.parsing.max-content-length = " + limits.maxContentLength() + "\n"
                        + "pekko.http.server.parsing.max-header-count = 64\n"
                        + "pekko.http.server.parsing.max-header-value-length = 8k\n"
                        + "pekko.http.server.parsing.max-uri-length = 2k\n"
                        + "pekko.http.server.remote-address-attribute = on\n"
                        + "pekko.http.server.socket-options.tcp-no-delay = on\n")
                .withFallback(system.classicSystem().settings().config()));
        ParserSettings parser = settings.getParserSettings().withCustomMethods(
                HttpMethods.custom("M-POST", false, false, RequestEntityAcceptances.Expected));
        settings = settings.withParserSettings(parser);
        ServerBuilder builder = Http.get(system).newServerAt(config.host(), port).withSettings(settings);
        if (https) {
            builder = builder.enableHttps(ConnectionContext.httpsServer(tls.sslContext()));
        }
        AtomicInteger open = new AtomicInteger();
        Source<IncomingConnection, CompletionStage<ServerBinding>> connections = builder.connectionSource();
        CompletionStage<ServerBinding> bound = connections.to(Sink.foreach(c -> accept(c, http, open, mat))).run(mat);
        try {
            ServerBinding b = bound.toCompletableFuture().get(30, TimeUnit.SECONDS);
            bindings.add(b);
            return b;
        } catch (Exception e) {
            throw new CimException(CimStatus.FAILED, "cannot serve CIM on " + config.host() + ":" + port + ": "
                    + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage()), e);
        }
    }

    /** One connection: refused beyond the limit; otherwise served, closing after the keep-alive limit. */
    private void accept(IncomingConnection c, CimHttp http, AtomicInteger open, Materializer mat) {
        CimServerConfig.Limits limits = config.limits();
        InetSocketAddress remote = c.remoteAddress();
        if (open.incrementAndGet() > limits.maxConnections()) {
            open.decrementAndGet();
            LOG.warn("CIM connection from {} refused: {} connections are open", remote, limits.maxConnections());
            c.handleWith(Flow.of(HttpRequest.class).take(1).map(r -> {
                r.discardEntityBytes(mat);
                return CimHttp.text(503, null, "too many connections").addHeader(CimHttp.CLOSE);
            }), mat);
            return;
        }
        int max = limits.maxRequestsPerConnection();
        Flow<HttpRequest, HttpResponse, NotUsed> flow = Flow.of(HttpRequest.class)
                .zipWithIndex()
                .mapAsync(1, (Pair<HttpRequest, Long> p) -> http.handle(p.first(), remote, p.second() + 1 >= max))
                .watchTermination((m, done) -> {
                    done.whenComplete((d, e) -> open.decrementAndGet());
                    return m;
                });
        c.handleWith(flow, mat);
    }

    /** The HTTP base URL (CIM-XML is POSTed to /cimom), or null when HTTP is off. */
    public String httpUrl() {
        return httpUrl;
    }

    /** The HTTPS base URL, or null when HTTPS is off. */
    public String httpsUrl() {
        return httpsUrl;
    }

    /** The SHA-256 fingerprint of the HTTPS certificate, or null when HTTPS is off. */
    public String certificateFingerprint() {
        return tls == null ? null : tls.fingerprint();
    }

    /** The PEM file of the generated certificate (for clients to trust), or null. */
    public Path certificateFile() {
        return tls == null ? null : tls.certificateFile();
    }

    @Override
    public void close() {
        for (ServerBinding b : bindings) {
            try {
                b.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.debug("unbinding {}: {}", b.localAddress(), e.toString());
            }
        }
        bindings.clear();
        indications.close();
        workers.shutdownNow();
        steps.shutdownNow();
        indicationWorker.shutdownNow();
    }

    private static ThreadFactory threads(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
