package io.idlewatch.contract;

/** The labels of SPEC §2. */
public final class Labels {

    public static final String MANAGED = "io.idlewatch.managed";
    public static final String WORKSPACE = "io.idlewatch.workspace";
    public static final String KEEP = "io.idlewatch.keep";
    /** {@code true}: {@code idlewatch watch --wake} starts the workspace again on a connection after an idle stop. */
    public static final String WAKE = "io.idlewatch.wake";
    /**
     * The only {@link #KEEP} values that do not keep, in any case; absent or empty does not keep
     * either. Anything else keeps, a typo included: a label that was meant to keep a workspace
     * must never be the reason it is removed.
     */
    public static final java.util.List<String> KEEP_OFF = java.util.List.of("false", "0", "no", "off");

    /** Whether a {@link #KEEP} value (null when the label is absent) keeps the container. */
    public static boolean keeps(String value) {
        return value != null && !value.isEmpty() && !KEEP_OFF.contains(value.toLowerCase(java.util.Locale.ROOT));
    }

    private Labels() {
    }
}
