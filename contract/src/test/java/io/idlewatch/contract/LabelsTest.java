package io.idlewatch.contract;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LabelsTest {

    @Test
    void theKeepLabelKeepsForAnyValueButTheFewThatSayNo() {
        for (String keeps : List.of("true", "1", "yes", "on", "TRUE", "Yes", "ture", "flase", " false", "false ", "nope", "\u0000")) {
            assertTrue(Labels.keeps(keeps), keeps);
        }
        for (String off : List.of("false", "0", "no", "off", "FALSE", "No", "oFf", "")) {
            assertFalse(Labels.keeps(off), off);
        }
        assertFalse(Labels.keeps(null), "no label");
    }
}
