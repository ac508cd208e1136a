package io.idlewatch.agent.signal;

import io.idlewatch.agent.config.AgentConfig;
import io.idlewatch.agent.signal.cpu.ContainerCpu;
import io.idlewatch.agent.signal.cpu.CpuSignal;
import io.idlewatch.agent.signal.cpu.ProcessCpuReader;
import io.idlewatch.agent.signal.exec.ExecSignal;
import io.idlewatch.agent.signal.http.HttpSignal;
import io.idlewatch.agent.signal.http.NetlinkTcpSource;
import io.idlewatch.agent.signal.http.OwnClientPorts;
import io.idlewatch.agent.signal.http.ProcNetTcpSource;
import io.idlewatch.agent.signal.opencode.OpencodeSignal;
import io.idlewatch.agent.signal.tty.TtySignal;

import java.util.ArrayList;
import java.util.List;

/** Builds the enabled signals from the configuration, in SPEC order (cpu, exec, tty, http, opencode). */
public final class Signals {
    private Signals() {
    }

    /** @param agentPid the agent's own pid (its CPU is not the workload's) */
    public static List<ActivitySignal> create(AgentConfig config, SystemPaths paths, long agentPid) {
        List<ActivitySignal> signals = new ArrayList<>(5);
        OwnClientPorts own = new OwnClientPorts();
        for (String name : config.signals()) {
            switch (name) {
                case "cpu" -> signals.add(new CpuSignal(new ContainerCpu(),
                        new ProcessCpuReader(paths.proc()), agentPid, config.cpuThreshold()));
                case "exec" -> signals.add(new ExecSignal(paths.proc()));
                case "tty" -> signals.add(new TtySignal(paths.dev()));
                case "http" -> signals.add(new HttpSignal(config.httpPorts(), config.httpLoopback(),
                        new NetlinkTcpSource(), new ProcNetTcpSource(paths.proc()), own));
                case "opencode" -> signals.add(new OpencodeSignal(config.httpPorts(), config.opencodeUsername(),
                        config.opencodePassword(), config.opencodeStall(), own));
                default -> throw new IllegalArgumentException("unknown signal " + name);
            }
        }
        return signals;
    }
}
