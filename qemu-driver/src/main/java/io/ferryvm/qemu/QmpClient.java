package io.ferryvm.qemu;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A QMP (QEMU Machine Protocol) client over one connected socket: greeting and capabilities negotiation,
 * commands correlated with their answers by id, asynchronous events to listeners and one-shot waiters.
 *
 * <p>Implementation notes: QMP is one JSON object per line in both directions. One reader thread owns the
 * input; it completes the future registered under the answer's id, or hands an event to the listeners
 * (which must be quick: they run on that thread). Writers serialize on the output. Everything QEMU sends is
 * distrusted: a line longer than {@link #MAX_LINE}, malformed JSON or an answer to an id never sent ends
 * the connection with a PROTOCOL error that every waiting caller sees.
 */
public final class QmpClient implements AutoCloseable {
    /** Longest line accepted from QEMU; query answers of even large guests stay far below. */
    static final int MAX_LINE = 16 << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final SocketChannel channel;
    private final String who;
    private final Duration timeout;
    private final Map<String, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final CopyOnWriteArrayList<Consumer<QmpEvent>> listeners = new CopyOnWriteArrayList<>();
    private final AtomicLong ids = new AtomicLong();
    private final AtomicReference<QemuException> closedBy = new AtomicReference<>();
    private final CompletableFuture<JsonNode> greeting = new CompletableFuture<>();
    private final Thread reader;

    private QmpClient(SocketChannel channel, String who, Duration timeout) {
        this.channel = channel;
        this.who = who;
        this.timeout = timeout;
        this.reader = new Thread(this::readLoop, "qmp-" + who);
        reader.setDaemon(true);
    }

    /**
     * Takes over a connected socket, waits for QEMU's greeting and leaves negotiation mode with
     * qmp_capabilities; who names the peer in every message (the guest's name).
     */
    public static QmpClient open(SocketChannel channel, String who, Duration timeout) {
        QmpClient c = new QmpClient(channel, who, timeout);
        c.reader.start();
        try {
            JsonNode hello = c.await(c.greeting, "greeting");
            if (!hello.path("QMP").isObject()) {
                throw c.fail(new QemuException(QemuException.Kind.PROTOCOL, c.who + ": first QMP message is not a greeting: " + abbreviate(hello.toString())));
            }
            c.execute("qmp_capabilities", null);
            return c;
        } catch (QemuException e) {
            c.close();
            throw e;
        }
    }

    /** QEMU's version from the greeting, e.g. "7.2.22". */
    public String qemuVersion() {
        JsonNode v = greeting.join().path("QMP").path("version").path("qemu");
        return v.path("major").asInt() + "." + v.path("minor").asInt() + "." + v.path("micro").asInt();
    }

    /** Runs a command with the default timeout and returns its "return" value. */
    public JsonNode execute(String command, ObjectNode arguments) {
        return execute(command, arguments, timeout);
    }

    /** Runs a command and returns its "return" value; QEMU's error answer becomes QMP_ERROR with its class and text. */
    public JsonNode execute(String command, ObjectNode arguments, Duration wait) {
        QemuException closed = closedBy.get();
        if (closed != null) {
            throw new QemuException(QemuException.Kind.DISCONNECTED, who + ": cannot run " + command + ": " + closed.getMessage(), closed);
        }
        String id = "ferry-" + ids.incrementAndGet();
        ObjectNode msg = JSON.createObjectNode();
        msg.put("execute", command);
        if (arguments != null) {
            msg.set("arguments", arguments);
        }
        msg.put("id", id);
        CompletableFuture<JsonNode> answer = new CompletableFuture<>();
        pending.put(id, answer);
        try {
            send(msg);
            JsonNode reply = await(answer, command, wait);
            if (reply.has("error")) {
                JsonNode err = reply.get("error");
                throw new QemuException(QemuException.Kind.QMP_ERROR,
                        who + ": " + command + " failed: " + err.path("class").asText("?") + ": " + err.path("desc").asText("?"));
            }
            return reply.path("return");
        } finally {
            pending.remove(id);
        }
    }

    /** A fresh argument object for {@link #execute}. */
    public static ObjectNode args() {
        return JSON.createObjectNode();
    }

    /** Calls the listener for every event from now on, on the reader thread. */
    public void onEvent(Consumer<QmpEvent> listener) {
        listeners.add(listener);
    }

    /** Completes with the first event from now on that matches, or exceptionally when the connection ends. */
    public CompletableFuture<QmpEvent> nextEvent(Predicate<QmpEvent> match) {
        CompletableFuture<QmpEvent> f = new CompletableFuture<>();
        Terminal l = new Terminal() {
            @Override
            public void accept(QmpEvent e) {
                if (match.test(e) && f.complete(e)) {
                    listeners.remove(this);
                }
            }

            @Override
            public void closed(QemuException why) {
                f.completeExceptionally(why);
            }
        };
        listeners.add(l);
        QemuException closed = closedBy.get();
        if (closed != null) {
            f.completeExceptionally(closed);
        }
        return f;
    }

    /** Waits for a future from this client with the default timeout, turning failures into QemuException. */
    public <T> T await(CompletableFuture<T> f, String what) {
        return await(f, what, timeout);
    }

    <T> T await(CompletableFuture<T> f, String what, Duration wait) {
        try {
            return f.get(wait.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new QemuException(QemuException.Kind.TIMEOUT, who + ": no " + what + " from QEMU within " + wait);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QemuException(QemuException.Kind.TIMEOUT, who + ": interrupted waiting for " + what);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof QemuException q) {
                throw new QemuException(q.kind(), who + ": " + what + ": " + q.getMessage(), q);
            }
            throw new QemuException(QemuException.Kind.DISCONNECTED, who + ": " + what + ": " + e.getCause(), e.getCause());
        }
    }

    public boolean isOpen() {
        return closedBy.get() == null;
    }

    @Override
    public void close() {
        fail(new QemuException(QemuException.Kind.DISCONNECTED, who + ": QMP connection closed"));
    }

    private void send(ObjectNode msg) {
        byte[] line;
        try {
            line = (JSON.writeValueAsString(msg) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new QemuException(QemuException.Kind.PROTOCOL, who + ": cannot encode " + msg, e);
        }
        synchronized (channel) {
            try {
                ByteBuffer b = ByteBuffer.wrap(line);
                while (b.hasRemaining()) {
                    channel.write(b);
                }
            } catch (IOException e) {
                throw fail(new QemuException(QemuException.Kind.DISCONNECTED, who + ": QMP write failed: " + e.getMessage(), e));
            }
        }
    }

    private void readLoop() {
        ByteBuffer in = ByteBuffer.allocate(64 << 10);
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        try {
            while (true) {
                in.clear();
                if (channel.read(in) < 0) {
                    fail(new QemuException(QemuException.Kind.DISCONNECTED, who + ": QEMU closed the QMP connection"));
                    return;
                }
                in.flip();
                while (in.hasRemaining()) {
                    byte b = in.get();
                    if (b == '\n') {
                        dispatch(line.toByteArray());
                        line.reset();
                    } else if (line.size() >= MAX_LINE) {
                        throw fail(new QemuException(QemuException.Kind.PROTOCOL, who + ": QMP line longer than " + MAX_LINE + " bytes"));
                    } else {
                        line.write(b);
                    }
                }
            }
        } catch (IOException e) {
            fail(new QemuException(QemuException.Kind.DISCONNECTED, who + ": QMP read failed: " + e.getMessage(), e));
        } catch (QemuException e) {
            fail(e);
        }
    }

    private void dispatch(byte[] bytes) {
        if (bytes.length == 0 || (bytes.length == 1 && bytes[0] == '\r')) {
            return;
        }
        JsonNode msg;
        try {
            msg = JSON.readTree(bytes);
        } catch (IOException e) {
            throw fail(new QemuException(QemuException.Kind.PROTOCOL,
                    who + ": malformed QMP message: " + abbreviate(new String(bytes, StandardCharsets.UTF_8))));
        }
        if (msg == null || !msg.isObject()) {
            throw fail(new QemuException(QemuException.Kind.PROTOCOL, who + ": QMP message is not an object: " + abbreviate(String.valueOf(msg))));
        }
        if (!greeting.isDone()) {
            greeting.complete(msg);
        } else if (msg.has("event")) {
            JsonNode ts = msg.path("timestamp");
            QmpEvent e = new QmpEvent(msg.get("event").asText(),
                    ts.path("seconds").asLong() * 1_000_000 + ts.path("microseconds").asLong(),
                    msg.has("data") ? msg.get("data") : JSON.createObjectNode());
            for (Consumer<QmpEvent> l : listeners) {
                l.accept(e);
            }
        } else if (msg.has("return") || msg.has("error")) {
            CompletableFuture<JsonNode> f = pending.get(msg.path("id").asText(""));
            if (f == null) {
                throw fail(new QemuException(QemuException.Kind.PROTOCOL, who + ": QMP answer to a command never sent: " + abbreviate(msg.toString())));
            }
            f.complete(msg);
        } else {
            throw fail(new QemuException(QemuException.Kind.PROTOCOL, who + ": QMP message neither answer nor event: " + abbreviate(msg.toString())));
        }
    }

    private QemuException fail(QemuException why) {
        if (closedBy.compareAndSet(null, why)) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing a broken socket: it is gone either way
            }
            greeting.completeExceptionally(why);
            pending.values().forEach(f -> f.completeExceptionally(why));
            for (Consumer<QmpEvent> l : listeners) {
                if (l instanceof Terminal t) {
                    t.closed(why);
                }
            }
        }
        return closedBy.get();
    }

    /** A listener that also wants to know when the connection ends (the driver marks the guest gone). */
    interface Terminal extends Consumer<QmpEvent> {
        void closed(QemuException why);
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...(" + s.length() + " chars)";
    }
}
