package io.ferryvm.ovf;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** A Strings element: translations for one xml:lang, inline (msgid to text) or in an external File (fileRef). */
public record StringsBundle(String lang, String fileRef, Map<String, String> messages, Extras x) {
    public StringsBundle {
        lang = lang == null ? "" : lang;
        fileRef = fileRef == null ? "" : fileRef;
        messages = Collections.unmodifiableMap(new LinkedHashMap<>(messages));
        x = x == null ? Extras.NONE : x;
    }
}
