package io.ferryvm.qemu;

import com.fasterxml.jackson.databind.JsonNode;

/** An asynchronous QMP event: its name, QEMU's timestamp in microseconds and its data (an empty object when none). */
public record QmpEvent(String name, long timestampMicros, JsonNode data) {}
