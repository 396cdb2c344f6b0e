package io.ferryvm.cim;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** CIM datetime values: timestamps (yyyymmddhhmmss.mmmmmm+000, UTC) and intervals (ddddddddhhmmss.mmmmmm:000). */
final class CimDateTime {
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMddHHmmss.SSSSSS").withZone(ZoneOffset.UTC);

    private CimDateTime() {}

    static String of(Instant t) {
        return STAMP.format(t) + "+000";
    }

    static String interval(Duration d) {
        long s = Math.max(0, d.getSeconds());
        long micros = Math.max(0, d.getNano() / 1000);
        return String.format(java.util.Locale.ROOT, "%08d%02d%02d%02d.%06d:000", s / 86400, (s / 3600) % 24, (s / 60) % 60, s % 60, micros);
    }
}
