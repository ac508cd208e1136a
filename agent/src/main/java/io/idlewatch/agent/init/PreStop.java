package io.idlewatch.agent.init;

import io.idlewatch.agent.Log;

import java.io.File;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code IDLEWATCH_PRE_STOP}: run before the workload gets SIGTERM, bounded by the stop grace, with
 * the workload's environment. The init reaps everything but the agent's own children, so the JDK's
 * process API is safe to use here.
 */
public final class PreStop {
    private PreStop() {
    }

    public static void run(List<String> command, long limitMillis, Map<String, String> environment) {
        if (command == null || command.isEmpty()) {
            return;
        }
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectInput(new File("/dev/null"))
                .redirectOutput(ProcessBuilder.Redirect.INHERIT)
                .redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().clear();
        pb.environment().putAll(environment);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            Log.info("pre-stop: " + e.getMessage());
            return;
        }
        try {
            if (p.waitFor(limitMillis, TimeUnit.MILLISECONDS)) {
                Log.info("pre-stop exited " + p.exitValue());
            } else {
                Log.info("pre-stop still running after " + limitMillis + " ms; killing it");
                p.destroyForcibly();
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
