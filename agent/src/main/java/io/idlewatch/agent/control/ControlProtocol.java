package io.idlewatch.agent.control;

import io.idlewatch.agent.idle.StateFile;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The control socket's protocol, version 1: one request line, one answer line.
 *
 * <pre>
 * request:  idlewatch/1 VERB [FORM]\n     FORM = application/x-www-form-urlencoded, e.g. reason=build%20step
 * answer:   ok JSON\n                     a JSON value: the state object, or a string to show the user
 *           error MESSAGE\n                one line for the user; the command was refused
 * </pre>
 *
 * The server closes the connection after answering, except after {@code hold}:
 * that hold lasts until the client closes its end.
 *
 * <p>Every request may carry the {@link #IGNORED_KEYS}, which change nothing.
 */
public final class ControlProtocol {
    public static final String VERSION = "idlewatch/1";
    public static final String SOCKET_NAME = "agent.sock";
    /** Longer request lines are refused: nothing legitimate comes near it. */
    public static final int MAX_LINE = 64 * 1024;
    /**
     * Free text that the agent keeps and shows (a touch reason, a hold's reason or command) is cut
     * to this many characters where it enters: it appears in every status answer (32 holds x 200 is
     * still a short line for the client's reader) and in the state file; a command line longer than
     * this is recognisable from its start. Clients cut it too, so a long command never makes a
     * request too long.
     */
    public static final int MAX_TEXT = 200;

    public static final String STATUS = "status";
    public static final String TOUCH = "touch";
    public static final String TIMEOUT = "timeout";
    public static final String HOLD = "hold";
    /** Runs the agent's stop sequence now, recorded with reason {@code manual}; optional {@code reason}. */
    public static final String STOP = "stop";
    /**
     * A whole client command line ({@code a0=status&a1=--json}) from the native client, run in the
     * agent; the answer is {@code cli EXIT OUT_BYTES ERR_BYTES\n} followed by exactly that many bytes of
     * standard output, then of standard error, for the client to copy as they are.
     */
    public static final String CLI = "cli";
    /** Arguments of a {@link #CLI} request: more is no command of ours. */
    public static final int MAX_CLI_ARGS = 32;
    /** What a {@link #CLI} answer carries at most (a status text with 32 holds is a few KiB). */
    public static final int MAX_CLI_OUTPUT = 32 * 1024;
    public static final List<String> VERBS = List.of(STATUS, TOUCH, TIMEOUT, HOLD, STOP, CLI);
    /**
     * Accepted on every request and ignored, so that older clients are still served: {@code cpu_ms},
     * the client's own CPU so far, which older clients send. Nothing reads it (the cpu signal leaves
     * out only the agent's own CPU), and {@code cli}, which refuses keys it does not know, accepts it.
     */
    public static final List<String> IGNORED_KEYS = List.of("cpu_ms");

    private ControlProtocol() {
    }

    /** A parsed request line. */
    public record Request(String verb, Map<String, String> args) {
        public String arg(String name) {
            return args.get(name);
        }
    }

    /** A parsed answer line; {@code payload} is JSON when ok, the message when not. */
    public record Answer(boolean ok, String payload) {
    }

    /** The request line, newline included. */
    public static String request(String verb, Map<String, String> args) {
        StringBuilder b = new StringBuilder(VERSION).append(' ').append(verb);
        String sep = " ";
        for (Map.Entry<String, String> e : args.entrySet()) {
            if (e.getValue() == null) {
                continue;
            }
            b.append(sep).append(URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8)).append('=')
                    .append(URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8));
            sep = "&";
        }
        return b.append('\n').toString();
    }

    /**
     * Parses a request line (without its newline).
     *
     * @throws IllegalArgumentException with the message the client gets
     */
    public static Request parseRequest(String line) {
        String[] parts = line.strip().split(" ", 3);
        if (!parts[0].equals(VERSION) || parts.length < 2) {
            throw new IllegalArgumentException("not a " + VERSION + " request; expected \"" + VERSION
                    + " VERB [ARGS]\" with VERB one of " + String.join(", ", VERBS));
        }
        if (!VERBS.contains(parts[1])) {
            throw new IllegalArgumentException("unknown command \"" + printable(parts[1]) + "\"; known: "
                    + String.join(", ", VERBS));
        }
        Map<String, String> args = new LinkedHashMap<>();
        if (parts.length == 3 && !parts[2].isEmpty()) {
            for (String pair : parts[2].split("&")) {
                int eq = pair.indexOf('=');
                String key = eq < 0 ? pair : pair.substring(0, eq);
                String value = eq < 0 ? "" : pair.substring(eq + 1);
                try {
                    args.put(URLDecoder.decode(key, StandardCharsets.UTF_8), URLDecoder.decode(value, StandardCharsets.UTF_8));
                } catch (IllegalArgumentException e) { // its message quotes the raw bytes, line breaks and all
                    throw new IllegalArgumentException("bad %-escape in \"" + printable(pair)
                            + "\"; arguments are URL-encoded, e.g. reason=build%20step");
                }
            }
        }
        return new Request(parts[1], args);
    }

    public static String ok(String json) {
        return "ok " + json + "\n";
    }

    /** An ok answer carrying a message for the user. */
    public static String okMessage(String message) {
        StringBuilder b = new StringBuilder(message.length() + 8);
        StateFile.string(b, message);
        return ok(b.toString());
    }

    /**
     * The answer to a {@link #CLI} request: header line, then the two texts (the server writes it
     * all as UTF-8, so the byte counts are those of the UTF-8 texts); each cut to its share.
     */
    public static String cliAnswer(int exitCode, String out, String err) {
        String o = cut(out, MAX_CLI_OUTPUT / 2);
        String e = cut(err, MAX_CLI_OUTPUT / 2);
        return "cli " + exitCode + " " + o.getBytes(StandardCharsets.UTF_8).length + " "
                + e.getBytes(StandardCharsets.UTF_8).length + "\n" + o + e;
    }

    /** At most {@code maxBytes} of UTF-8 (a quarter as many characters always fit), whole characters only. */
    private static String cut(String s, int maxBytes) {
        if (s.getBytes(StandardCharsets.UTF_8).length <= maxBytes) {
            return s;
        }
        int end = maxBytes / 4;
        if (Character.isHighSurrogate(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(0, end);
    }

    public static String error(String message) {
        return "error " + message.replace('\n', ' ').replace('\r', ' ') + "\n";
    }

    /**
     * Parses an answer line (without its newline).
     *
     * @throws IllegalArgumentException when it is neither {@code ok} nor {@code error}
     */
    public static Answer parseAnswer(String line) {
        if (line.startsWith("ok ")) {
            return new Answer(true, line.substring(3));
        }
        if (line.startsWith("error ")) {
            return new Answer(false, line.substring(6));
        }
        throw new IllegalArgumentException("unexpected answer from the agent: " + printable(line));
    }

    /** The text of a JSON string literal, or the JSON itself when it is not a string (an object to print). */
    public static String text(String json) {
        if (json.length() < 2 || json.charAt(0) != '"' || json.charAt(json.length() - 1) != '"') {
            return json;
        }
        StringBuilder b = new StringBuilder(json.length());
        for (int i = 1; i < json.length() - 1; i++) {
            char c = json.charAt(i);
            if (c != '\\' || i + 1 >= json.length() - 1) {
                b.append(c);
                continue;
            }
            char e = json.charAt(++i);
            switch (e) {
                case 'n' -> b.append('\n');
                case 'r' -> b.append('\r');
                case 't' -> b.append('\t');
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'u' -> {
                    if (i + 4 < json.length()) {
                        b.append((char) Integer.parseInt(json.substring(i + 1, i + 5), 16));
                        i += 4;
                    }
                }
                default -> b.append(e); // \" \\ \/
            }
        }
        return b.toString();
    }

    /**
     * Free text from a client as the agent keeps it: cut to {@link #MAX_TEXT} characters ("..." at
     * the end when cut), control characters as '?' (it is printed on other users' terminals by
     * {@code idlewatch status}, in the idle notice and in the log: no escape sequences, no line
     * breaks); null stays null.
     */
    public static String clip(String text) {
        if (text == null) {
            return null;
        }
        boolean cut = text.length() > MAX_TEXT;
        int end = cut ? MAX_TEXT - 3 : text.length();
        if (cut && Character.isHighSurrogate(text.charAt(end - 1))) {
            end--; // do not split a character
        }
        StringBuilder b = new StringBuilder(end + 3);
        for (int i = 0; i < end; i++) {
            char c = text.charAt(i);
            b.append(Character.isISOControl(c) ? '?' : c);
        }
        return cut ? b.append("...").toString() : b.toString();
    }

    /** At most 60 characters, control characters as '?': garbage is quoted back safely. */
    static String printable(String s) {
        StringBuilder b = new StringBuilder(Math.min(s.length(), 60));
        for (int i = 0; i < s.length() && i < 60; i++) {
            char c = s.charAt(i);
            b.append(c < 0x20 || c == 0x7f ? '?' : c);
        }
        return s.length() > 60 ? b.append("...").toString() : b.toString();
    }
}
