package io.ferryvm.cim;

import static io.ferryvm.cim.Names.INTEROP;
import static io.ferryvm.cim.Names.VIRTUALIZATION;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * Indication subscriptions (DSP1054) in root/interop: filters (a WQL query over indication classes),
 * listener destinations (CIM_ListenerDestinationCIMXML, or the older CIM_IndicationHandlerCIMXML) and
 * the subscriptions joining them. Created, read, modified and deleted with the intrinsic operations;
 * destinations are checked against the listener allow-list; a filter or destination in use cannot be
 * deleted; everything is bounded. Kept in memory: subscriptions end with the server, as clients of
 * transient subscriptions expect.
 */
final class Subscriptions {
    static final int MAX_EACH = 64;
    static final String FILTER = "CIM_IndicationFilter";
    static final String DESTINATION = "CIM_ListenerDestinationCIMXML";
    static final String HANDLER = "CIM_IndicationHandlerCIMXML";
    static final String SUBSCRIPTION = "CIM_IndicationSubscription";

    record Filter(CimInstance instance, Wql.Query query, String owner) {}

    record Handler(CimInstance instance, URI destination, String owner) {}

    record Subscription(CimInstance instance, CimObjectPath filter, CimObjectPath handler, String owner) {
        boolean enabled() {
            Long s = instance.integer("SubscriptionState");
            return s == null || s == 2 || s == 3;
        }
    }

    private final ListenerPolicy policy;
    private final String systemName;
    private final List<Filter> filters = new ArrayList<>();
    private final List<Handler> handlers = new ArrayList<>();
    private final List<Subscription> subscriptions = new ArrayList<>();

    Subscriptions(ListenerPolicy policy, String systemName) {
        this.policy = policy;
        this.systemName = systemName;
    }

    synchronized List<Subscription> subscriptions() {
        return List.copyOf(subscriptions);
    }

    synchronized Filter filter(CimObjectPath p) {
        return filters.stream().filter(f -> f.instance().path().equals(p)).findFirst().orElse(null);
    }

    synchronized Handler handler(CimObjectPath p) {
        return handlers.stream().filter(h -> h.instance().path().equals(p)).findFirst().orElse(null);
    }

    void register(List<Provider> out) {
        out.add(SimpleProvider.of(INTEROP, FILTER, ctx -> instances(filters, Filter::instance))
                .create(this::createFilter)
                .delete((ctx, p) -> delete(p, FILTER)));
        for (String cls : List.of(DESTINATION, HANDLER)) {
            out.add(SimpleProvider.of(INTEROP, cls, ctx -> {
                synchronized (this) {
                    return handlers.stream().map(Handler::instance).filter(i -> i.className().equals(cls)).toList();
                }
            }).create(this::createHandler)
                    .modify(this::modifyHandler)
                    .delete((ctx, p) -> delete(p, cls)));
        }
        out.add(SimpleProvider.of(INTEROP, SUBSCRIPTION, ctx -> instances(subscriptions, Subscription::instance))
                .create(this::createSubscription)
                .modify(this::modifySubscription)
                .delete((ctx, p) -> delete(p, SUBSCRIPTION)));
    }

    private synchronized <T> List<CimInstance> instances(List<T> list, java.util.function.Function<T, CimInstance> f) {
        return list.stream().map(f).toList();
    }

    // ---- create ----

    /** The four keys of filters and destinations, with defaults for the ones a client may leave out. */
    private CimInstance withKeys(CallContext ctx, CimInstance given, String prefix) {
        InstanceBuilder b = ctx.instance(INTEROP, given.className());
        for (CimProperty p : given.properties()) {
            b.set(p.name(), p.value());
        }
        if (given.value("SystemCreationClassName") == null) {
            b.set("SystemCreationClassName", "CIM_ComputerSystem");
        }
        if (given.value("SystemName") == null) {
            b.set("SystemName", systemName);
        }
        Object ccn = given.value("CreationClassName");
        if (ccn != null && !String.valueOf(ccn).equalsIgnoreCase(given.className())) {
            throw new CimException(CimStatus.INVALID_PARAMETER, "CreationClassName " + ccn + " is not the instance's class "
                    + given.className());
        }
        b.set("CreationClassName", given.className());
        if (given.value("Name") == null || String.valueOf(given.value("Name")).isBlank()) {
            b.set("Name", prefix + UUID.randomUUID());
        }
        return b.build();
    }

    private CimObjectPath createFilter(CallContext ctx, CimInstance given) {
        String lang = given.string("QueryLanguage");
        String query = given.string("Query");
        if (query == null || lang == null) {
            throw new CimException(CimStatus.INVALID_PARAMETER, "a filter needs Query and QueryLanguage");
        }
        if (!Wql.supportsLanguage(lang)) {
            throw new CimException(CimStatus.QUERY_LANGUAGE_NOT_SUPPORTED, "QueryLanguage '" + lang + "' is not supported (WQL, DMTF:CQL)");
        }
        String source = given.string("SourceNamespace");
        if (source == null && given.value("SourceNamespaces") instanceof List && !((List<?>) given.value("SourceNamespaces")).isEmpty()) {
            source = String.valueOf(((List<?>) given.value("SourceNamespaces")).get(0));
        }
        if (source != null && !Namespaces.normalize(source).equalsIgnoreCase(VIRTUALIZATION)) {
            throw new CimException(CimStatus.INVALID_PARAMETER, "SourceNamespace " + source + ": indications come from " + VIRTUALIZATION);
        }
        Wql.Query q = Wql.parse(query);
        CimClass from = ctx.repo().find(VIRTUALIZATION, q.className());
        if (from == null || !from.isIndication()) {
            throw new CimException(CimStatus.INVALID_QUERY, "invalid query: " + q.className() + " is not an indication class of "
                    + VIRTUALIZATION);
        }
        CimInstance inst = withKeys(ctx, given, "ferry-filter-");
        synchronized (this) {
            if (filters.size() >= MAX_EACH) {
                throw new CimException(CimStatus.SERVER_LIMITS_EXCEEDED, MAX_EACH + " filters exist already");
            }
            if (filters.stream().anyMatch(f -> f.instance().path().equals(inst.path()))) {
                throw new CimException(CimStatus.ALREADY_EXISTS, "filter " + inst.path() + " exists already");
            }
            filters.add(new Filter(inst, q, ctx.user()));
        }
        return inst.path();
    }

    private CimObjectPath createHandler(CallContext ctx, CimInstance given) {
        String dest = given.string("Destination");
        if (dest == null) {
            throw new CimException(CimStatus.INVALID_PARAMETER, "a listener destination needs a Destination URL");
        }
        URI uri = policy.check(dest);
        Long protocol = given.integer("Protocol");
        if (protocol != null && protocol != 2) {
            throw new CimException(CimStatus.INVALID_PARAMETER, "Protocol " + protocol + ": only CIM-XML (2) is supported");
        }
        CimInstance inst = withKeys(ctx, given, "ferry-listener-");
        synchronized (this) {
            if (handlers.size() >= MAX_EACH) {
                throw new CimException(CimStatus.SERVER_LIMITS_EXCEEDED, MAX_EACH + " listener destinations exist already");
            }
            if (handlers.stream().anyMatch(h -> h.instance().path().equals(inst.path()))) {
                throw new CimException(CimStatus.ALREADY_EXISTS, "listener destination " + inst.path() + " exists already");
            }
            handlers.add(new Handler(inst, uri, ctx.user()));
        }
        return inst.path();
    }

    private CimObjectPath createSubscription(CallContext ctx, CimInstance given) {
        Object f = given.value("Filter");
        Object h = given.value("Handler");
        if (!(f instanceof CimObjectPath) || !(h instanceof CimObjectPath)) {
            throw new CimException(CimStatus.INVALID_PARAMETER, "a subscription needs Filter and Handler references");
        }
        CimObjectPath fp = ((CimObjectPath) f).inNamespace(INTEROP);
        CimObjectPath hp = ((CimObjectPath) h).inNamespace(INTEROP);
        Long state = given.integer("SubscriptionState");
        if (state != null && state != 2 && state != 4) {
            throw new CimException(CimStatus.INVALID_PARAMETER, "SubscriptionState " + state + ": use 2 (Enabled) or 4 (Disabled)");
        }
        synchronized (this) {
            if (filter(fp) == null) {
                throw new CimException(CimStatus.INVALID_PARAMETER, "Filter " + fp + " does not exist");
            }
            if (handler(hp) == null) {
                throw new CimException(CimStatus.INVALID_PARAMETER, "Handler " + hp + " does not exist");
            }
            InstanceBuilder b = ctx.instance(INTEROP, given.className());
            for (CimProperty p : given.properties()) {
                b.set(p.name(), p.value());
            }
            b.set("Filter", fp).set("Handler", hp).set("SubscriptionState", state == null ? 2L : state)
                    .set("SubscriptionStartTime", CimDateTime.of(ctx.services().clock().instant()));
            CimInstance inst = b.build();
            if (subscriptions.size() >= MAX_EACH) {
                throw new CimException(CimStatus.SERVER_LIMITS_EXCEEDED, MAX_EACH + " subscriptions exist already");
            }
            if (subscriptions.stream().anyMatch(s -> s.instance().path().equals(inst.path()))) {
                throw new CimException(CimStatus.ALREADY_EXISTS, "subscription " + inst.path() + " exists already");
            }
            subscriptions.add(new Subscription(inst, fp, hp, ctx.user()));
            return inst.path();
        }
    }

    // ---- modify / delete ----

    private void modifySubscription(CallContext ctx, CimInstance modified, Set<String> propertyList) {
        synchronized (this) {
            for (int i = 0; i < subscriptions.size(); i++) {
                Subscription s = subscriptions.get(i);
                if (s.instance().path().equals(modified.path())) {
                    Long state = modified.integer("SubscriptionState");
                    boolean listed = propertyList == null || propertyList.contains("subscriptionstate");
                    if (!listed || state == null) {
                        return;
                    }
                    if (state != 2 && state != 4) {
                        throw new CimException(CimStatus.INVALID_PARAMETER, "SubscriptionState " + state + ": use 2 (Enabled) or 4 (Disabled)");
                    }
                    InstanceBuilder b = ctx.instance(INTEROP, s.instance().className());
                    for (CimProperty p : s.instance().properties()) {
                        b.set(p.name(), p.value());
                    }
                    b.set("SubscriptionState", state).set("TimeOfLastStateChange", CimDateTime.of(ctx.services().clock().instant()));
                    subscriptions.set(i, new Subscription(b.build(), s.filter(), s.handler(), s.owner()));
                    return;
                }
            }
        }
        throw new CimException(CimStatus.NOT_FOUND, "No such instance: " + modified.path());
    }

    private void modifyHandler(CallContext ctx, CimInstance modified, Set<String> propertyList) {
        String dest = modified.string("Destination");
        boolean listed = propertyList == null || propertyList.contains("destination");
        URI uri = listed && dest != null ? policy.check(dest) : null;
        synchronized (this) {
            for (int i = 0; i < handlers.size(); i++) {
                Handler h = handlers.get(i);
                if (h.instance().path().equals(modified.path())) {
                    if (uri == null) {
                        return;
                    }
                    InstanceBuilder b = ctx.instance(INTEROP, h.instance().className());
                    for (CimProperty p : h.instance().properties()) {
                        b.set(p.name(), p.value());
                    }
                    b.set("Destination", dest);
                    handlers.set(i, new Handler(b.build(), uri, h.owner()));
                    return;
                }
            }
        }
        throw new CimException(CimStatus.NOT_FOUND, "No such instance: " + modified.path());
    }

    private synchronized void delete(CimObjectPath p, String cls) {
        switch (cls) {
            case FILTER:
                if (subscriptions.stream().anyMatch(s -> s.filter().equals(p))) {
                    throw new CimException(CimStatus.FAILED, "filter " + p + " is used by a subscription: delete the subscription first");
                }
                if (!filters.removeIf(f -> f.instance().path().equals(p))) {
                    throw new CimException(CimStatus.NOT_FOUND, "No such instance: " + p);
                }
                return;
            case SUBSCRIPTION:
                if (!subscriptions.removeIf(s -> s.instance().path().equals(p))) {
                    throw new CimException(CimStatus.NOT_FOUND, "No such instance: " + p);
                }
                return;
            default:
                if (subscriptions.stream().anyMatch(s -> s.handler().equals(p))) {
                    throw new CimException(CimStatus.FAILED, "destination " + p + " is used by a subscription: delete the subscription first");
                }
                if (!handlers.removeIf(h -> h.instance().path().equals(p))) {
                    throw new CimException(CimStatus.NOT_FOUND, "No such instance: " + p);
                }
        }
    }
}
