package io.idlewatch.agent.config;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a command line on whitespace with "double" and 'single' quotes, the
 * subset of shell quoting a pre-stop hook needs when the image has no shell.
 * Backslash escapes the next character outside single quotes.
 */
final class CommandLine {
    private CommandLine() {
    }

    /** @throws IllegalArgumentException naming the unbalanced quote */
    static List<String> split(String line) {
        List<String> argv = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean inWord = false;
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quote == '\'') {
                if (c == '\'') {
                    quote = 0;
                } else {
                    word.append(c);
                }
            } else if (quote == '"') {
                if (c == '"') {
                    quote = 0;
                } else if (c == '\\' && i + 1 < line.length() && "\"\\$`".indexOf(line.charAt(i + 1)) >= 0) {
                    word.append(line.charAt(++i));
                } else {
                    word.append(c);
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
                inWord = true;
            } else if (c == '\\' && i + 1 < line.length()) {
                word.append(line.charAt(++i));
                inWord = true;
            } else if (Character.isWhitespace(c)) {
                if (inWord) {
                    argv.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
            } else {
                word.append(c);
                inWord = true;
            }
        }
        if (quote != 0) {
            throw new IllegalArgumentException("unbalanced " + quote + " quote");
        }
        if (inWord) {
            argv.add(word.toString());
        }
        return argv;
    }
}
