package io.idlewatch.contract;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The state record again, as the target of a symbolic link beside the state file
 * ({@value #NAME}), so that the host can read it with the Engine API's stat of a path
 * ({@code HEAD /containers/ID/archive}, about 1 ms) instead of an archive of the file
 * ({@code GET}, about 45 ms on Docker 20.10, which starts a helper process to make the
 * tar): what keeps {@code idlewatch ps} fast with hundreds of workspaces. The engine reports
 * a link's target, resolved inside the container, in the stat it returns.
 *
 * <p>The target is the record's JSON bytes with every byte outside printable ASCII, and
 * {@code %} and {@code /}, written {@code %XX}, cut into path components of
 * {@value #COMPONENT_BYTES} bytes (the last one shorter) joined by {@code /}: ASCII whatever
 * the container's locale, and a path the engines resolve (they look each component up, and a
 * name longer than 255 bytes fails the stat). A record longer than {@value #MAX_TARGET_BYTES}
 * bytes so written gets no link (the host reads the file then).
 * Like the file, the link is written by the workspace's side: the host parses what it
 * decodes as strictly as the file.
 */
public final class StateLink {
    /** The link's name, in the state file's directory. */
    public static final String NAME = "state.link";
    /**
     * At most this long: a link target may be up to PATH_MAX (4096) bytes, and the engine
     * reports it prefixed with the directory.
     */
    public static final int MAX_TARGET_BYTES = 4000;
    /** Bytes of the record in each path component: under NAME_MAX (255), which the engines' stat enforces. */
    public static final int COMPONENT_BYTES = 200;

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private StateLink() {
    }

    /** The link target for {@code json}; empty when it would be longer than {@link #MAX_TARGET_BYTES}. */
    public static Optional<String> encode(String json) {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        StringBuilder b = new StringBuilder(bytes.length + 64);
        for (byte x : bytes) {
            int c = x & 0xff;
            if (plain(c)) {
                b.append((char) c);
            } else {
                b.append('%').append(HEX[c >> 4]).append(HEX[c & 0xf]);
            }
        }
        StringBuilder path = new StringBuilder(b.length() + b.length() / COMPONENT_BYTES + 1);
        for (int at = 0; at < b.length(); at += COMPONENT_BYTES) {
            if (at > 0) {
                path.append('/');
            }
            path.append(b, at, Math.min(b.length(), at + COMPONENT_BYTES));
        }
        return path.length() > MAX_TARGET_BYTES ? Optional.empty() : Optional.of(path.toString());
    }

    /**
     * The record's bytes from a link target; empty unless it is exactly what
     * {@link #encode} writes: components of {@link #COMPONENT_BYTES} (the last one from 1 to
     * that), no byte written plainly that should have been escaped, every escape two
     * upper-case hex digits, at most {@link #MAX_TARGET_BYTES} long.
     */
    public static Optional<byte[]> decode(String path) {
        if (path == null || path.isEmpty() || path.length() > MAX_TARGET_BYTES) {
            return Optional.empty();
        }
        StringBuilder joined = new StringBuilder(path.length());
        int at = 0;
        while (true) {
            int slash = path.indexOf('/', at);
            int end = slash < 0 ? path.length() : slash;
            int length = end - at;
            if (length < 1 || length > COMPONENT_BYTES || (slash >= 0 && length != COMPONENT_BYTES)) {
                return Optional.empty(); // an empty, overlong or short inner component: not what encode cuts
            }
            joined.append(path, at, end);
            if (slash < 0) {
                break;
            }
            at = slash + 1;
        }
        String target = joined.toString();
        ByteArrayOutputStream out = new ByteArrayOutputStream(target.length());
        for (int i = 0; i < target.length(); i++) {
            char c = target.charAt(i);
            if (c == '%') {
                if (i + 2 >= target.length()) {
                    return Optional.empty();
                }
                int hi = hex(target.charAt(i + 1));
                int lo = hex(target.charAt(i + 2));
                if (hi < 0 || lo < 0 || plain(hi << 4 | lo)) {
                    return Optional.empty();
                }
                out.write(hi << 4 | lo);
                i += 2;
            } else if (plain(c)) {
                out.write(c);
            } else {
                return Optional.empty();
            }
        }
        return Optional.of(out.toByteArray());
    }

    /** Written as itself: printable ASCII but {@code %} and {@code /}. */
    private static boolean plain(int c) {
        return c >= 0x20 && c < 0x7f && c != '%' && c != '/';
    }

    private static int hex(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    }
}
