package io.ferryvm.core;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;

/**
 * VM definitions as JSON: the state directory's format, human-readable like libvirt's XML. Decoding
 * errors name the line and column and the field at fault.
 */
public final class VmSpecJson {
    /** Definitions are small; a larger document is refused before parsing. */
    public static final int MAX_BYTES = 1 << 20;

    private static final ObjectMapper MAPPER = mapper(false);
    private static final ObjectMapper STRICT = mapper(true);

    private VmSpecJson() {}

    /** The mapper Ferry uses for its JSON (strict: unknown fields are refused, as for user input). */
    public static ObjectMapper mapper(boolean strict) {
        JsonMapper m = JsonMapper.builder()
                .enable(SerializationFeature.INDENT_OUTPUT)
                .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, strict)
                .configure(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES, true)
                .build();
        m.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxNestingDepth(32).maxStringLength(1 << 16).maxNumberLength(32).build());
        return m;
    }

    public static byte[] toJson(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new CoreException(CoreException.Kind.INVALID_SPEC, "cannot encode " + value.getClass().getSimpleName() + ": " + e.getOriginalMessage(), e);
        }
    }

    /** Reads a value; strict refuses unknown fields (user input), lenient ignores them (newer files). */
    public static <T> T read(byte[] json, Class<T> type, String where, boolean strict) {
        if (json.length > MAX_BYTES) {
            throw new CoreException(CoreException.Kind.INVALID_SPEC, where + ": " + json.length + " bytes exceeds the " + MAX_BYTES + "-byte limit");
        }
        try {
            T v = (strict ? STRICT : MAPPER).readValue(json, type);
            if (v == null) {
                throw new CoreException(CoreException.Kind.INVALID_SPEC, where + ": empty document");
            }
            return v;
        } catch (JsonProcessingException e) {
            throw new CoreException(CoreException.Kind.INVALID_SPEC, where + ": " + describe(e), e);
        } catch (IOException e) {
            throw new CoreException(CoreException.Kind.IO, where + ": " + e.getMessage(), e);
        }
    }

    /** "line 3, column 14: ..." with the innermost cause (a record's own validation message). */
    public static String describe(JsonProcessingException e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String what = root instanceof IllegalArgumentException ? root.getMessage() : e.getOriginalMessage();
        JsonLocation loc = e.getLocation();
        String path = e instanceof com.fasterxml.jackson.databind.JsonMappingException jm && !jm.getPath().isEmpty()
                ? " (at " + jm.getPathReference().replaceAll("^[^\\[]*", "") + ")" : "";
        return loc == null ? what + path : "line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ": " + what + path;
    }
}
