package io.idlewatch.sweeper.cli;

import io.idlewatch.sweeper.config.HostEnvironment;
import io.idlewatch.sweeper.core.SweepPolicy;
import io.idlewatch.sweeper.core.Sweeper;
import io.idlewatch.sweeper.docker.DockerApi;
import io.idlewatch.sweeper.docker.DockerEndpoint;
import io.idlewatch.sweeper.docker.DockerJavaApi;

import java.time.Clock;
import java.time.Duration;
import java.util.function.Function;

/**
 * What the commands get from outside their arguments. {@link #system()} is the real host; tests
 * swap the engine for a fake, add hooks in the list-to-remove window, or shorten the grace given
 * to created containers so they need not wait two minutes.
 */
public record CliContext(HostEnvironment env, Function<DockerEndpoint, DockerApi> connector, Clock clock,
                         Sweeper.Hooks hooks, Duration createdGrace) {

    public static CliContext system() {
        HostEnvironment env = HostEnvironment.system();
        return new CliContext(env, endpoint -> connect(endpoint, env), Clock.systemUTC(), Sweeper.Hooks.NONE,
                SweepPolicy.CREATED_GRACE);
    }

    public static DockerApi connect(DockerEndpoint endpoint, HostEnvironment env) {
        boolean tlsVerify = env.get("DOCKER_TLS_VERIFY").map(v -> !v.equals("0") && !v.equalsIgnoreCase("false")).orElse(false);
        String certPath = env.get("DOCKER_CERT_PATH").orElse(env.home().resolve(".docker").toString());
        return DockerJavaApi.connect(endpoint, tlsVerify, certPath);
    }

    public CliContext withEnv(HostEnvironment replacement) {
        return new CliContext(replacement, connector, clock, hooks, createdGrace);
    }

    public CliContext withHooks(Sweeper.Hooks replacement) {
        return new CliContext(env, connector, clock, replacement, createdGrace);
    }

    public CliContext withCreatedGrace(Duration replacement) {
        return new CliContext(env, connector, clock, hooks, replacement);
    }
}
