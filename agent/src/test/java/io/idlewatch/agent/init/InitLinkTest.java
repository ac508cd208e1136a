package io.idlewatch.agent.init;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The init's lines, parsed strictly: anything else is not the init. */
class InitLinkTest {
    @Test
    void theInitsLinesParse() throws IOException {
        assertEquals(new InitLink.Hello(123, 1700000000000L, 2), InitLink.parse("hello 123 1700000000000 2"));
        assertEquals(new InitLink.SignalCame(15), InitLink.parse("signal 15"));
        assertEquals(new InitLink.Exited(137, 15, 9), InitLink.parse("exited 137 15 9"));
        assertEquals(new InitLink.Exited(3, 0, 0), InitLink.parse("exited 3 0 0"));
        assertEquals(new InitLink.Done(0), InitLink.parse("done 0"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "hello", "hello 1 2", "hello 1 2 3 4", "hello -1 2 3", "hello 1  2 3", "signal 0",
        "signal 65", "signal +15", "exited 256 0 0", "exited 1 0", "done", "done 1 2", "ready 1 2 3", "ack",
        "HELLO 1 2 3", "hello 1 2 3 ", "exited 1 0 99", "hello 1234567890123456 1 1"})
    void anythingElseIsRefused(String line) {
        assertThrows(IOException.class, () -> InitLink.parse(line));
    }
}
