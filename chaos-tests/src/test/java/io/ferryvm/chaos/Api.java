package io.ferryvm.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A node's REST API, as JSON: what the harness drives the cluster with and reads its state from. */
final class Api {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

    /** One answer: status, parsed body (null node when empty or not JSON) and the raw text. */
    record Response(int status, JsonNode body, String raw) {
        boolean ok() {
            return status >= 200 && status < 300;
        }
    }

    private final String base;

    Api(String host, int port) {
        this.base = "http://" + host + ":" + port;
    }

    String base() {
        return base;
    }

    Response call(String method, String path, String body, Duration timeout) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(timeout);
        b = body == null ? b.method(method, HttpRequest.BodyPublishers.noBody())
                : b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
        try {
            HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
            JsonNode n;
            try {
                n = r.body().isBlank() ? JSON.nullNode() : JSON.readTree(r.body());
            } catch (IOException notJson) {
                n = JSON.nullNode();
            }
            return new Response(r.statusCode(), n, r.body());
        } catch (IOException e) {
            throw new ChaosException(method + " " + base + path + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ChaosException(method + " " + base + path + ": interrupted", e);
        }
    }

    Response call(String method, String path, String body) {
        return call(method, path, body, Duration.ofSeconds(30));
    }

    /** The body of a 2xx answer; anything else throws with the answer. */
    JsonNode ok(String method, String path, String body) {
        Response r = call(method, path, body);
        if (!r.ok()) {
            throw new ChaosException(method + " " + path + " -> " + r.status() + " " + r.raw());
        }
        return r.body();
    }

    JsonNode get(String path) {
        return ok("GET", path, null);
    }
}
