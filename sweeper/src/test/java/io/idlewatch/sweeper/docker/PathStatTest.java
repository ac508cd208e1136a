package io.idlewatch.sweeper.docker;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

class PathStatTest {
    private static String head(String status, String statJson) {
        return status + "\r\nApi-Version: 1.41\r\nX-Docker-Container-Path-Stat: "
                + Base64.getEncoder().encodeToString(statJson.getBytes(StandardCharsets.UTF_8)) + "\r\nContent-Length: 0";
    }

    @Test
    void aLinksTargetAsDockerReportsIt() {
        // what Docker 20.10 answered for a link to "v1 x" in /run/idlewatch
        String stat = "{\"name\":\"state.link\",\"size\":4,\"mode\":134218239,\"mtime\":\"2026-11-29T22:43:03.72Z\","
                + "\"linkTarget\":\"/run/idlewatch/v1 x\"}";
        assertEquals(Optional.of("/run/idlewatch/v1 x"), PathStat.parse(head("HTTP/1.1 200 OK", stat)));
    }

    @Test
    void podmanAnswers404WithTheLinksStat() {
        // what Podman 4.3 answered: it followed the link to no file, and sent the link's stat anyway
        String stat = "{\"name\":\"v1 x%41\",\"size\":7,\"mode\":134218239,\"mtime\":\"2026-11-29T22:55:07.14Z\","
                + "\"isDir\":false,\"linkTarget\":\"/run/idlewatch/v1 x%41\"}";
        assertEquals(Optional.of("/run/idlewatch/v1 x%41"), PathStat.parse(head("HTTP/1.1 404 Not Found", stat)));
    }

    @Test
    void anythingElseIsNoLink() {
        String file = "{\"name\":\"state.json\",\"size\":4,\"mode\":420,\"mtime\":\"2026-11-29T22:43:03Z\",\"linkTarget\":\"\"}";
        String link = "{\"name\":\"l\",\"size\":4,\"mode\":134218239,\"linkTarget\":\"/x\"}";
        assertEquals(Optional.empty(), PathStat.parse(head("HTTP/1.1 200 OK", file)));          // a regular file
        assertEquals(Optional.empty(), PathStat.parse("HTTP/1.1 404 Not Found\r\nContent-Length: 0")); // not there
        assertEquals(Optional.empty(), PathStat.parse(head("HTTP/1.1 500 Internal Server Error", link)));
        assertEquals(Optional.empty(), PathStat.parse("HTTP/1.1 200 OK\r\nContent-Length: 0")); // no stat
        assertEquals(Optional.empty(), PathStat.parse("HTTP/1.1 200 OK\r\nX-Docker-Container-Path-Stat: %%%"));
        assertEquals(Optional.empty(), PathStat.parse(head("HTTP/1.1 200 OK", "{\"mode\":134218239,\"linkTarget\":7}")));
        assertEquals(Optional.empty(), PathStat.parse(head("HTTP/1.1 200 OK", "{\"mode\":134218239,\"mode\":1,\"linkTarget\":\"/x\"}")));
        assertEquals(Optional.empty(), PathStat.parse(head("HTTP/1.1 200 OK", link + " trailing")));
        assertEquals(Optional.empty(), PathStat.parse(""));
    }
}
