package io.ferryvm.ovf;

/** A localizable message: its default text and the optional ovf:msgid that Strings bundles translate. */
public record Msg(String text, String msgid) {
    public static final Msg EMPTY = new Msg("", "");

    public Msg {
        text = text == null ? "" : text;
        msgid = msgid == null ? "" : msgid;
    }

    public static Msg of(String text) {
        return new Msg(text, "");
    }

    @Override
    public String toString() {
        return text;
    }
}
