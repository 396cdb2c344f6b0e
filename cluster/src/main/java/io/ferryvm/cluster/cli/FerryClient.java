package io.ferryvm.cluster.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ferryvm.core.VmSpecJson;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.Predicate;
import java.util.stream.Stream;

/** The CLI's side of the REST API: JSON in and out, API errors turned into one clear message. */
final class FerryClient {
    static final ObjectMapper JSON = VmSpecJson.mapper(false);

    /** An error the API answered with (its code and message), or a connection failure. */
    static final class ApiException extends RuntimeException {
        final int status;

        ApiException(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    private final String base;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    FerryClient(String base) {
        this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    }

    String base() {
        return base;
    }

    JsonNode get(String path) {
        return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    JsonNode post(String path, Object body) {
        String json;
        try {
            json = body == null ? "" : body instanceof String s ? s : JSON.writeValueAsString(body);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot encode request: " + e.getMessage(), e);
        }
        return send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    JsonNode delete(String path) {
        return send(HttpRequest.newBuilder(uri(path)).DELETE());
    }

    private URI uri(String path) {
        return URI.create(base + path);
    }

    private JsonNode send(HttpRequest.Builder b) {
        try {
            HttpResponse<String> r = http.send(b.timeout(Duration.ofSeconds(120)).build(), HttpResponse.BodyHandlers.ofString());
            JsonNode body = r.body().isBlank() ? JSON.nullNode() : JSON.readTree(r.body());
            if (r.statusCode() >= 400) {
                String msg = body.hasNonNull("message") ? body.get("message").asText() : r.body();
                throw new ApiException(r.statusCode(), msg + " (HTTP " + r.statusCode() + ")");
            }
            return body;
        } catch (IOException e) {
            throw new ApiException(0, "cannot reach the Ferry API at " + base + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(0, "interrupted");
        }
    }

    /**
     * Reads server-sent events (name, JSON data) until the handler says stop or the timeout passes (checked
     * at every line; the server sends a heartbeat at least every 15 s).
     */
    void events(Duration timeout, Runnable onConnected, EventHandler handler) {
        HttpRequest req = HttpRequest.newBuilder(uri("/api/events")).timeout(timeout).GET().build();
        try {
            HttpResponse<Stream<String>> r = http.send(req, HttpResponse.BodyHandlers.ofLines());
            onConnected.run();
            // SSE: "event:" and "data:" lines in any order, a blank line ends the event.
            String[] event = {"message"};
            StringBuilder data = new StringBuilder();
            long deadline = System.nanoTime() + timeout.toNanos();
            try (Stream<String> lines = r.body()) {
                Predicate<String> go = line -> {
                    if (System.nanoTime() > deadline) {
                        return false;
                    }
                    if (line.startsWith("event:")) {
                        event[0] = line.substring(6).trim();
                    } else if (line.startsWith("data:")) {
                        data.append(line.substring(5).trim()).append('\n');
                    } else if (line.isEmpty() && data.length() > 0) {
                        String name = event[0];
                        String json = data.toString();
                        event[0] = "message";
                        data.setLength(0);
                        try {
                            return handler.onEvent(name, JSON.readTree(json));
                        } catch (IOException e) {
                            return true; // not JSON: not ours
                        }
                    }
                    return true;
                };
                lines.takeWhile(go).forEach(l -> { });
            }
        } catch (IOException e) {
            throw new ApiException(0, "event stream from " + base + " ended: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Called per event; returns false to stop reading. */
    @FunctionalInterface
    interface EventHandler {
        boolean onEvent(String name, JsonNode data);
    }
}
