package io.ferryvm.cim;

import java.util.LinkedHashMap;
import java.util.Map;

/** What an extrinsic method returns: its return value and the OUT parameters it sets (by declared name). */
record MethodResult(long returnValue, Map<String, Object> out) {
    static MethodResult of(long rv) {
        return new MethodResult(rv, Map.of());
    }

    static MethodResult of(long rv, String name, Object value) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(name, value);
        return new MethodResult(rv, m);
    }
}
