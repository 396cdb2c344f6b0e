package io.ferryvm.cluster.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * A long operation's progress for a person or a script: on a terminal one bar redrawn in place with rate
 * and ETA; otherwise plain lines (at each tenth, on a new stage, or every few seconds) that a log keeps
 * readable; with {@code --json} one JSON object per line. Units are bytes unless the caller says otherwise.
 */
final class Progress {
    enum Mode { BAR, PLAIN, JSON }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long BAR_EVERY_NANOS = 100_000_000L;
    private static final long PLAIN_EVERY_NANOS = 5_000_000_000L;
    private static final long JSON_EVERY_NANOS = 1_000_000_000L;

    private final PrintStream out;
    private final Mode mode;
    private final String what;
    private final String unit;
    private final LongSupplier clock;
    private final long started;
    private long lastPrinted = Long.MIN_VALUE;
    private int lastTenth = -1;
    private String lastStage = "";
    private boolean barShown;
    private int barWidth;
    // Rate: exponentially weighted over the updates, so one slow or fast step does not swing the ETA.
    private long lastNanos;
    private long lastDone;
    private double rate = Double.NaN;

    Progress(PrintStream out, Mode mode, String what, String unit, LongSupplier clock) {
        this.out = out;
        this.mode = mode;
        this.what = what;
        this.unit = unit;
        this.clock = clock;
        this.started = clock.getAsLong();
        this.lastNanos = started;
    }

    Progress(PrintStream out, Mode mode, String what) {
        this(out, mode, what, "B", System::nanoTime);
    }

    /** BAR on an interactive terminal (a console, TERM not dumb), PLAIN otherwise, JSON when asked. */
    static Mode detect(boolean json) {
        if (json) {
            return Mode.JSON;
        }
        String term = System.getenv("TERM");
        return System.console() != null && term != null && !term.equals("dumb") ? Mode.BAR : Mode.PLAIN;
    }

    Mode mode() {
        return mode;
    }

    /**
     * Reports done of total (total <= 0: unknown) in stage, with detail text; rate is the caller's
     * measure in units per second, or NaN to let this class measure it from the updates.
     */
    void update(String stage, long done, long total, double callerRate, String detail) {
        long now = clock.getAsLong();
        if (Double.isNaN(callerRate)) {
            long dt = now - lastNanos;
            if (dt > 0 && done >= lastDone) {
                double r = (done - lastDone) / (dt / 1e9);
                rate = Double.isNaN(rate) ? r : 0.7 * rate + 0.3 * r;
                lastNanos = now;
                lastDone = done;
            }
        } else {
            rate = callerRate;
        }
        double eta = total > 0 && rate > 0 ? Math.max(0, total - done) / rate : Double.NaN;
        int tenth = total > 0 ? (int) Math.min(10, done * 10 / total) : -1;
        boolean finished = total > 0 && done >= total;
        boolean newStage = !stage.equals(lastStage);
        switch (mode) {
            case BAR -> {
                if (newStage || finished || now - lastPrinted >= BAR_EVERY_NANOS) {
                    drawBar(stage, done, total, eta, detail);
                    lastPrinted = now;
                }
            }
            case PLAIN -> {
                if (newStage || tenth != lastTenth || now - lastPrinted >= PLAIN_EVERY_NANOS) {
                    out.println(plainLine(stage, done, total, eta, detail));
                    out.flush();
                    lastPrinted = now;
                }
            }
            case JSON -> {
                if (newStage || finished || now - lastPrinted >= JSON_EVERY_NANOS) {
                    ObjectNode o = JSON.createObjectNode().put("event", "progress").put("operation", what).put("stage", stage)
                            .put("done", done).put("total", total).put("unit", unit);
                    if (!Double.isNaN(rate)) {
                        o.put("ratePerSecond", Math.round(rate));
                    }
                    if (!Double.isNaN(eta)) {
                        o.put("etaSeconds", Math.round(eta));
                    }
                    o.put("detail", detail == null ? "" : detail);
                    out.println(o);
                    out.flush();
                    lastPrinted = now;
                }
            }
        }
        lastTenth = tenth;
        lastStage = stage;
    }

    /** A message between updates (clears the bar first on a terminal). */
    void message(String text) {
        clearBar();
        if (mode == Mode.JSON) {
            out.println(JSON.createObjectNode().put("event", "message").put("operation", what).put("text", text));
        } else {
            out.println(text);
        }
        out.flush();
    }

    /** Ends the bar's line (terminal); the caller prints the result. */
    void end() {
        if (mode == Mode.BAR && barShown) {
            out.println();
            out.flush();
            barShown = false;
        }
    }

    double elapsedSeconds() {
        return (clock.getAsLong() - started) / 1e9;
    }

    private void drawBar(String stage, long done, long total, double eta, String detail) {
        StringBuilder b = new StringBuilder("\r").append(what).append(' ');
        if (total > 0) {
            int filled = (int) Math.min(30, done * 30 / total);
            b.append('[').append("#".repeat(filled)).append("-".repeat(30 - filled)).append("] ")
                    .append(String.format(Locale.ROOT, "%3d%% ", (int) Math.min(100, done * 100 / total)));
        }
        b.append(stage).append(' ').append(amount(done));
        if (total > 0) {
            b.append('/').append(amount(total));
        }
        b.append("  ").append(rateText()).append("  ETA ").append(etaText(eta));
        if (detail != null && !detail.isEmpty()) {
            b.append("  ").append(detail);
        }
        int width = b.length();
        // Pad over the rest of a longer previous bar rather than leaving its tail on screen.
        b.append(" ".repeat(Math.max(0, barWidth - width)));
        barWidth = width;
        out.print(b);
        out.flush();
        barShown = true;
    }

    private void clearBar() {
        if (mode == Mode.BAR && barShown) {
            out.print("\r" + " ".repeat(barWidth) + "\r");
            barShown = false;
            barWidth = 0;
        }
    }

    private String plainLine(String stage, long done, long total, double eta, String detail) {
        StringBuilder b = new StringBuilder(what).append(": ").append(stage).append(' ');
        if (total > 0) {
            b.append(String.format(Locale.ROOT, "%d%% ", (int) Math.min(100, done * 100 / total)));
        }
        b.append(amount(done));
        if (total > 0) {
            b.append(" of ").append(amount(total));
        }
        b.append(", ").append(rateText()).append(", ETA ").append(etaText(eta));
        if (detail != null && !detail.isEmpty()) {
            b.append(", ").append(detail);
        }
        return b.toString();
    }

    private String amount(long n) {
        return unit.equals("B") ? Sizes.human(n) : n + " " + unit;
    }

    private String rateText() {
        if (Double.isNaN(rate)) {
            return "-/s";
        }
        return unit.equals("B") ? Sizes.human(Math.round(rate)) + "/s" : String.format(Locale.ROOT, "%.2f %s/s", rate, unit);
    }

    static String etaText(double seconds) {
        if (Double.isNaN(seconds) || Double.isInfinite(seconds)) {
            return "--:--";
        }
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%02d:%02d", s / 60, s % 60);
    }
}
