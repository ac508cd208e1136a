package io.idlewatch.sweeper.docker;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Locale;
import java.util.Optional;

/**
 * The Engine API's stat of a path in a container ({@code HEAD /containers/ID/archive?path=P}),
 * over a Unix socket: the engine answers with the path's stat in the
 * {@code X-Docker-Container-Path-Stat} header and no body, without making an archive (Docker
 * starts a helper process for each archive it makes; a stat costs about 1 ms). docker-java's
 * transport has no HEAD, so this is one plain HTTP/1.1 exchange on its own connection; the
 * caller bounds it in time (the channel is interruptible).
 */
final class PathStat {
    /** The whole response head is read into this much at most; a stat header is a few hundred bytes. */
    static final int MAX_HEAD_BYTES = 16 * 1024;
    /** Go's os.ModeSymlink, as the engine reports a mode. */
    static final long MODE_SYMLINK = 1L << 27;
    private static final String STAT_HEADER = "x-docker-container-path-stat";
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    static {
        JSON.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxNestingDepth(8).maxStringLength(MAX_HEAD_BYTES).build());
    }

    private PathStat() {
    }

    /**
     * The target of the symbolic link at {@code path}, as the engine resolved it inside the
     * container; empty when there is nothing there, it is not a link, or the answer is not a
     * well-formed stat.
     */
    static Optional<String> linkTarget(Path socket, String apiVersion, String id, String path) throws IOException {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            String request = "HEAD /v" + apiVersion + "/containers/" + encode(id) + "/archive?path=" + encode(path)
                    + " HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n";
            ByteBuffer out = ByteBuffer.wrap(request.getBytes(StandardCharsets.US_ASCII));
            while (out.hasRemaining()) {
                channel.write(out);
            }
            return parse(readHead(channel));
        }
    }

    /** The response head (status line and headers), or what came before the connection closed. */
    private static String readHead(SocketChannel channel) throws IOException {
        ByteBuffer in = ByteBuffer.allocate(MAX_HEAD_BYTES);
        while (in.hasRemaining()) {
            if (channel.read(in) < 0) {
                break;
            }
            String sofar = new String(in.array(), 0, in.position(), StandardCharsets.ISO_8859_1);
            if (sofar.contains("\r\n\r\n")) {
                return sofar.substring(0, sofar.indexOf("\r\n\r\n"));
            }
        }
        return new String(in.array(), 0, in.position(), StandardCharsets.ISO_8859_1);
    }

    /** The link target in a response head; empty for any other answer. */
    static Optional<String> parse(String head) {
        String[] lines = head.split("\r\n", -1);
        // Podman 4.3 follows the link, finds no file by that name and answers 404, with the link's stat all the same
        if (lines.length == 0 || !lines[0].matches("HTTP/1\\.[01] (200|404)( .*)?")) {
            return Optional.empty();
        }
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0 && lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT).equals(STAT_HEADER)) {
                return stat(lines[i].substring(colon + 1).trim());
            }
        }
        return Optional.empty();
    }

    private static Optional<String> stat(String base64) {
        try {
            JsonNode stat = JSON.readTree(Base64.getDecoder().decode(base64));
            JsonNode mode = stat.get("mode");
            JsonNode target = stat.get("linkTarget");
            if (mode == null || !mode.canConvertToLong() || (mode.asLong() & MODE_SYMLINK) == 0
                    || target == null || !target.isTextual()) {
                return Optional.empty();
            }
            return Optional.of(target.asText());
        } catch (IOException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
