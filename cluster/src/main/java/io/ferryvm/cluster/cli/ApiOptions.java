package io.ferryvm.cluster.cli;

import picocli.CommandLine.Option;

/** The --api option every client command shares. */
final class ApiOptions {
    @Option(names = "--api", description = "Ferry API URL (default: $FERRY_API or http://127.0.0.1:8080).")
    String api;

    FerryClient client() {
        String url = api != null ? api : System.getenv().getOrDefault("FERRY_API", "http://127.0.0.1:8080");
        return new FerryClient(url);
    }
}
