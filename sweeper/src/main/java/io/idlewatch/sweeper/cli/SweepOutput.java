package io.idlewatch.sweeper.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.idlewatch.sweeper.core.ContainerOutcome;
import io.idlewatch.sweeper.core.SweepReport;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * How a sweep is printed: one line per container as it is handled and one summary line, or one
 * JSON document. A dry run prints exactly the same lines, each marked {@code (dry run)}.
 */
final class SweepOutput {

    private SweepOutput() {
    }

    /** {@code removed  3f2a1b9c4d5e  ws-alpha  exited (0) 2h ago, 4.1kB}. */
    static String line(ContainerOutcome o, boolean dryRun) {
        // The name comes from whoever created the container, the detail may quote the engine: both sanitised.
        return String.format("%-7s  %s  %s  %s%s", o.action().name().toLowerCase(Locale.ROOT),
                TerminalText.cell(o.shortId()), TerminalText.cell(o.name()), TerminalText.detail(o.detail()),
                dryRun ? " (dry run)" : "");
    }

    static String summary(SweepReport report) {
        return TerminalText.line(report.summaryLine() + (report.dryRun() ? " (dry run)" : ""));
    }

    static void printJson(SweepReport report, PrintWriter out) {
        ObjectNode root = JsonOutput.mapper().createObjectNode();
        root.put("dry_run", report.dryRun());
        ArrayNode containers = root.putArray("containers");
        for (ContainerOutcome o : report.outcomes()) {
            ObjectNode c = containers.addObject();
            c.put("id", o.id());
            c.put("name", o.name());
            c.put("workspace", o.workspace());
            c.put("action", o.action().name().toLowerCase(Locale.ROOT));
            c.put("reason", o.skipReason() == null ? null : o.skipReason().name().toLowerCase(Locale.ROOT).replace('_', '-'));
            c.put("detail", o.detail());
            c.put("reclaimed_bytes", o.reclaimedBytes());
        }
        ObjectNode summary = root.putObject("summary");
        summary.put("removed", report.count(ContainerOutcome.Action.REMOVED));
        summary.put("skipped", report.count(ContainerOutcome.Action.SKIPPED));
        ObjectNode reasons = summary.putObject("skipped_by_reason");
        report.skippedByReason().forEach((reason, n) -> reasons.put(reason.name().toLowerCase(Locale.ROOT).replace('_', '-'), n));
        summary.put("failed", report.count(ContainerOutcome.Action.FAILED));
        summary.put("reclaimed_bytes", report.reclaimedBytes());
        summary.put("line", summary(report));
        out.println(JsonOutput.write(root));
        out.flush();
    }
}
