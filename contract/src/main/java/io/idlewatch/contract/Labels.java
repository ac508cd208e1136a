package io.idlewatch.contract;

/** The labels of SPEC §2. */
public final class Labels {

    public static final String MANAGED = "io.idlewatch.managed";
    public static final String WORKSPACE = "io.idlewatch.workspace";
    public static final String KEEP = "io.idlewatch.keep";
    /** {@code true}: {@code idlewatch watch --wake} starts the workspace again on a connection after an idle stop. */
    public static final String WAKE = "io.idlewatch.wake";

    private Labels() {
    }
}
