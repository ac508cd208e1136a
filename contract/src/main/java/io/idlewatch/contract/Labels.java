package io.idlewatch.contract;

/** The labels of SPEC §2. */
public final class Labels {

    public static final String MANAGED = "io.idlewatch.managed";
    public static final String WORKSPACE = "io.idlewatch.workspace";
    public static final String KEEP = "io.idlewatch.keep";

    private Labels() {
    }
}
