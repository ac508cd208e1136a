package io.idlewatch.agent.signal.opencode;

import java.io.IOException;

/**
 * Reads opencode's {@code GET /session/status} body: a JSON object mapping
 * session id to a status object, {@code {"type":"idle"}}, {@code {"type":"busy"}}
 * or {@code {"type":"retry","attempt":…,"message":…,"next":…}} (opencode's
 * {@code SessionStatus.Info}; idle sessions are usually simply absent).
 * A small strict scanner rather than a JSON library: it walks the structure,
 * so a "type" inside a retry message string cannot fool it.
 */
final class SessionStatusJson {
    private final String s;
    private int i;

    private SessionStatusJson(String s) {
        this.s = s;
    }

    /** Counts sessions whose type is not "idle"; {@code counts[0]} gets all sessions, {@code counts[1]} the busy ones. */
    static void count(String body, int[] counts) throws IOException {
        new SessionStatusJson(body).top(counts, null, 0);
    }

    /**
     * As {@link #count}, and adds the ids of the first {@code max} busy sessions to {@code busyIds}
     * (only ids that are safe in a URL path: letters, digits, '_' and '-', at most 64).
     */
    static void count(String body, int[] counts, java.util.List<String> busyIds, int max) throws IOException {
        new SessionStatusJson(body).top(counts, busyIds, max);
    }

    private static boolean safeId(String id) {
        if (id.isEmpty() || id.length() > 64) {
            return false;
        }
        for (int k = 0; k < id.length(); k++) {
            char c = id.charAt(k);
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-')) {
                return false;
            }
        }
        return true;
    }

    private void top(int[] counts, java.util.List<String> busyIds, int max) throws IOException {
        counts[0] = 0;
        counts[1] = 0;
        ws();
        expect('{');
        ws();
        if (peek() == '}') {
            i++;
            end();
            return;
        }
        while (true) {
            ws();
            String id = string();
            ws();
            expect(':');
            ws();
            if (peek() != '{') {
                throw new IOException("session status is not an object at offset " + i);
            }
            String type = statusType();
            counts[0]++;
            if (!"idle".equals(type)) {
                counts[1]++;
                if (busyIds != null && busyIds.size() < max && safeId(id)) {
                    busyIds.add(id);
                }
            }
            ws();
            char c = next();
            if (c == '}') {
                end();
                return;
            }
            if (c != ',') {
                throw new IOException("expected ',' or '}' at offset " + (i - 1));
            }
        }
    }

    /** Reads one status object and returns its "type" member (null when missing). */
    private String statusType() throws IOException {
        expect('{');
        String type = null;
        ws();
        if (peek() == '}') {
            i++;
            return null;
        }
        while (true) {
            ws();
            String key = string();
            ws();
            expect(':');
            ws();
            if (key.equals("type") && peek() == '"') {
                type = string();
            } else {
                skipValue(0);
            }
            ws();
            char c = next();
            if (c == '}') {
                return type;
            }
            if (c != ',') {
                throw new IOException("expected ',' or '}' at offset " + (i - 1));
            }
        }
    }

    private void skipValue(int depth) throws IOException {
        if (depth > 32) {
            throw new IOException("JSON nested too deeply");
        }
        char c = peek();
        if (c == '"') {
            string();
        } else if (c == '{' || c == '[') {
            char close = c == '{' ? '}' : ']';
            i++;
            ws();
            if (peek() == close) {
                i++;
                return;
            }
            while (true) {
                ws();
                if (close == '}') {
                    string();
                    ws();
                    expect(':');
                    ws();
                }
                skipValue(depth + 1);
                ws();
                char d = next();
                if (d == close) {
                    return;
                }
                if (d != ',') {
                    throw new IOException("expected ',' at offset " + (i - 1));
                }
            }
        } else {
            int start = i;
            while (i < s.length() && "+-0123456789.eEtrufalsn".indexOf(s.charAt(i)) >= 0) {
                i++;
            }
            if (i == start) {
                throw new IOException("unexpected '" + c + "' at offset " + i);
            }
        }
    }

    private String string() throws IOException {
        expect('"');
        StringBuilder b = null;
        int start = i;
        while (true) {
            if (i >= s.length()) {
                throw new IOException("unterminated string");
            }
            char c = s.charAt(i++);
            if (c == '"') {
                return b == null ? s.substring(start, i - 1) : b.toString();
            }
            if (c == '\\') {
                if (b == null) {
                    b = new StringBuilder(s.substring(start, i - 1));
                }
                if (i >= s.length()) {
                    throw new IOException("unterminated string");
                }
                char e = s.charAt(i++);
                if (e == 'u') {
                    if (i + 4 > s.length()) {
                        throw new IOException("bad \\u escape");
                    }
                    try {
                        b.append((char) Integer.parseInt(s, i, i + 4, 16));
                    } catch (NumberFormatException ex) {
                        throw new IOException("bad \\u escape");
                    }
                    i += 4;
                } else {
                    b.append(switch (e) {
                        case 'n' -> '\n';
                        case 't' -> '\t';
                        case 'r' -> '\r';
                        case 'b' -> '\b';
                        case 'f' -> '\f';
                        default -> e;
                    });
                }
            } else if (b != null) {
                b.append(c);
            }
        }
    }

    private void end() throws IOException {
        ws();
        if (i != s.length()) {
            throw new IOException("trailing data after the JSON object");
        }
    }

    private void ws() {
        while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\n' || s.charAt(i) == '\r' || s.charAt(i) == '\t')) {
            i++;
        }
    }

    private char peek() throws IOException {
        if (i >= s.length()) {
            throw new IOException("unexpected end of JSON");
        }
        return s.charAt(i);
    }

    private char next() throws IOException {
        char c = peek();
        i++;
        return c;
    }

    private void expect(char c) throws IOException {
        if (peek() != c) {
            throw new IOException("expected '" + c + "' at offset " + i + ", found '" + s.charAt(i) + "'");
        }
        i++;
    }
}
