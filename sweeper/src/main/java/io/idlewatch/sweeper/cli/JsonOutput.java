package io.idlewatch.sweeper.cli;

import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.UncheckedIOException;

/**
 * {@code --json} output: the exact data, including what a workspace wrote, but as pure ASCII. Every
 * control character, DEL and every non-ASCII character (C1 controls, bidi overrides, line
 * separators among them) is written as a {@code \\uXXXX} escape, so the document is valid JSON and
 * nothing in it acts on a terminal it is printed to; a JSON reader gets the original strings back.
 */
final class JsonOutput {

    private static final ObjectMapper MAPPER = new ObjectMapper(new JsonFactoryBuilder()
            .enable(JsonWriteFeature.ESCAPE_NON_ASCII)
            .characterEscapes(new AsciiEscapes())
            .build());

    private JsonOutput() {
    }

    static ObjectMapper mapper() {
        return MAPPER;
    }

    static String write(JsonNode node) {
        try {
            return MAPPER.writeValueAsString(node);
        } catch (JsonProcessingException impossible) {
            throw new UncheckedIOException(impossible);
        }
    }

    /** JSON's standard escapes plus DEL; everything above ASCII is escaped by ESCAPE_NON_ASCII. */
    private static final class AsciiEscapes extends CharacterEscapes {
        private final int[] ascii;

        AsciiEscapes() {
            ascii = CharacterEscapes.standardAsciiEscapesForJSON();
            ascii[0x7F] = CharacterEscapes.ESCAPE_STANDARD;
        }

        @Override
        public int[] getEscapeCodesForAscii() {
            return ascii;
        }

        @Override
        public com.fasterxml.jackson.core.SerializableString getEscapeSequence(int ch) {
            return null; // ESCAPE_STANDARD everywhere: \\uXXXX
        }
    }
}
