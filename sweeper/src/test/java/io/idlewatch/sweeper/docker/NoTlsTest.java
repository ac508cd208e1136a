package io.idlewatch.sweeper.docker;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class NoTlsTest {
    /** A TLS connection made by mistake on a Unix-socket endpoint must fail loudly, never silently. */
    @Test
    void refusesEveryUse() {
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                NoTls.CONTEXT::createSSLEngine);
        assertEquals("no TLS on a Unix socket endpoint", e.getMessage());
        assertThrows(UnsupportedOperationException.class, NoTls.CONTEXT::getSocketFactory);
        assertThrows(UnsupportedOperationException.class, () -> NoTls.CONTEXT.init(null, null, null));
    }
}
