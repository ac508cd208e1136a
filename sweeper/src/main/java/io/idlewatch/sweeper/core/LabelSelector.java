package io.idlewatch.sweeper.core;

import io.idlewatch.contract.Labels;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * Label filters ({@code key=value} or a bare {@code key}), all of which must hold. The engine is
 * given them to narrow its answer, and every container it returns is checked against them again
 * here: a filter the engine ignored or misread must not widen what we remove.
 */
public record LabelSelector(List<String> filters) {

    public LabelSelector {
        if (filters == null || filters.isEmpty()) {
            // An empty selector would match every container on the host.
            throw new IllegalArgumentException("refusing an empty label selector: it would match every container");
        }
        for (String filter : filters) {
            if (filter == null || filter.isBlank() || filter.startsWith("=")) {
                throw new IllegalArgumentException("label filter \"" + filter + "\" has no key; use e.g. io.idlewatch.workspace=NAME");
            }
        }
        filters = List.copyOf(new LinkedHashSet<>(filters));
    }

    /** The default selector {@code io.idlewatch.managed=true}, ANDed with the extra filters. */
    public static LabelSelector managedAnd(List<String> extra) {
        List<String> all = new ArrayList<>();
        all.add(Labels.MANAGED + "=true");
        all.addAll(extra);
        return new LabelSelector(all);
    }

    public boolean matches(Map<String, String> labels) {
        for (String filter : filters) {
            int eq = filter.indexOf('=');
            String key = eq < 0 ? filter : filter.substring(0, eq);
            String actual = labels.get(key);
            if (actual == null || eq >= 0 && !actual.equals(filter.substring(eq + 1))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return String.join(",", filters);
    }
}
