package io.ferryvm.cim;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Open enumerations of the pull operations (DSP0200 1.3): an Open* computes its result once and hands
 * it out MaxObjectCount at a time. A context belongs to the user and namespace that opened it, lives
 * for OperationTimeout between pulls, and the number of open contexts is bounded, so a client that
 * never closes cannot make the server hold results forever.
 */
final class PullContexts {
    static final int MAX_CONTEXTS = 256;
    static final long MAX_OBJECT_COUNT = 10_000;
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);
    static final Duration MAX_TIMEOUT = Duration.ofMinutes(10);

    /** What a context hands out: instances with paths, paths, or instances (query results). */
    enum Kind { INSTANCES_WITH_PATH, PATHS, INSTANCES }

    /** One open enumeration; guarded by its own monitor (two pulls on one context are serialised). */
    static final class Context {
        final String id;
        final String user;
        final String namespace;
        final Kind kind;
        final List<CimInstance> remaining;
        final Duration timeout;
        Instant expires;
        int position;

        Context(String id, String user, String namespace, Kind kind, List<CimInstance> items, Duration timeout, Instant expires) {
            this.id = id;
            this.user = user;
            this.namespace = namespace;
            this.kind = kind;
            this.remaining = items;
            this.timeout = timeout;
            this.expires = expires;
        }

        synchronized List<CimInstance> take(long max) {
            int end = (int) Math.min(remaining.size(), position + max);
            List<CimInstance> out = new ArrayList<>(remaining.subList(position, end));
            position = end;
            return out;
        }

        synchronized boolean done() {
            return position >= remaining.size();
        }
    }

    private final Map<String, Context> contexts = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();
    private final Clock clock;

    PullContexts(Clock clock) {
        this.clock = clock;
    }

    static Duration timeout(Long seconds) {
        if (seconds == null) {
            return DEFAULT_TIMEOUT;
        }
        if (seconds < 0 || seconds > MAX_TIMEOUT.getSeconds()) {
            throw new CimException(CimStatus.INVALID_OPERATION_TIMEOUT, "OperationTimeout " + seconds + " s is outside 0.."
                    + MAX_TIMEOUT.getSeconds() + " (0: the server's maximum)");
        }
        return seconds == 0 ? MAX_TIMEOUT : Duration.ofSeconds(seconds);
    }

    static long maxObjectCount(Long n, long dflt) {
        if (n == null) {
            return dflt;
        }
        if (n < 0 || n > MAX_OBJECT_COUNT) {
            throw new CimException(CimStatus.SERVER_LIMITS_EXCEEDED, "MaxObjectCount " + n + " is outside 0.." + MAX_OBJECT_COUNT);
        }
        return n;
    }

    Context open(String user, String namespace, Kind kind, List<CimInstance> items, Duration timeout) {
        expire();
        if (contexts.size() >= MAX_CONTEXTS) {
            throw new CimException(CimStatus.SERVER_LIMITS_EXCEEDED, MAX_CONTEXTS
                    + " enumerations are open: close some (CloseEnumeration) or let them time out");
        }
        byte[] b = new byte[16];
        random.nextBytes(b);
        Context c = new Context(HexFormat.of().formatHex(b), user, namespace, kind, items, timeout, clock.instant().plus(timeout));
        contexts.put(c.id, c);
        return c;
    }

    /** The caller's context, or INVALID_ENUMERATION_CONTEXT (unknown, expired, someone else's, another namespace or kind). */
    Context get(String id, String user, String namespace, Kind kind) {
        expire();
        Context c = id == null ? null : contexts.get(id);
        if (c == null || !c.user.equals(user) || !c.namespace.equals(namespace) || (kind != null && c.kind != kind)) {
            throw new CimException(CimStatus.INVALID_ENUMERATION_CONTEXT, "no open enumeration '" + CimObjectPath.abbreviate(id)
                    + "' of this kind for this user in " + namespace);
        }
        synchronized (c) {
            c.expires = clock.instant().plus(c.timeout);
        }
        return c;
    }

    void close(Context c) {
        contexts.remove(c.id);
    }

    int open() {
        return contexts.size();
    }

    private void expire() {
        Instant now = clock.instant();
        contexts.values().removeIf(c -> {
            synchronized (c) {
                return c.expires.isBefore(now);
            }
        });
    }
}
