package io.idlewatch.images;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every link in the README and docs/ goes to a file that exists, and to a heading that exists in it. */
class DocsLinksTest {
    static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();
    /** [text](target) and ![alt](target); the target up to the first space or closing parenthesis. */
    private static final Pattern LINK = Pattern.compile("!?\\[[^\\]]*\\]\\(([^)\\s]+)(?:\\s+\"[^\"]*\")?\\)");

    @Test
    void everyLinkResolves() throws IOException {
        List<Path> pages = new ArrayList<>();
        pages.add(ROOT.resolve("README.md"));
        try (Stream<Path> docs = Files.walk(ROOT.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        assertTrue(pages.size() > 3, "README and docs/: " + pages);
        List<String> broken = new ArrayList<>();
        int checked = 0;
        for (Path page : pages) {
            for (String target : links(Files.readString(page))) {
                if (target.matches("^[a-z][a-z0-9+.-]*:.*")) {
                    continue; // https:, mailto: — outside this repository
                }
                checked++;
                String problem = problem(page, target);
                if (problem != null) {
                    broken.add(ROOT.relativize(page) + ": " + target + " — " + problem);
                }
            }
        }
        assertTrue(checked > 10, "found the links: " + checked);
        assertEquals(List.of(), broken);
    }

    @Test
    void headingSlugsAreGitHubs() {
        assertEquals("stopping-and-telling-why-afterwards", slug("Stopping, and telling why afterwards"));
        assertEquals("idlewatch-status---json", slug("`idlewatch status [--json]`"));
        assertEquals("why-the-jdks-unix-domain-sockets-not-jnr-unixsocket",
                slug("Why the JDK's Unix-domain sockets, not jnr-unixsocket"));
    }

    @Test
    void aBrokenLinkIsFound() throws IOException {
        Path page = ROOT.resolve("README.md");
        assertTrue(problem(page, "docs/no-such-page.md") != null);
        assertTrue(problem(page, "#no-such-heading") != null);
        assertEquals(null, problem(page, "#the-two-commands"));
    }

    private static List<String> links(String markdown) {
        List<String> out = new ArrayList<>();
        boolean fence = false;
        for (String line : markdown.split("\n")) {
            if (line.startsWith("```")) {
                fence = !fence;
                continue;
            }
            if (fence) {
                continue;
            }
            Matcher m = LINK.matcher(line.replaceAll("`[^`]*`", "``"));
            while (m.find()) {
                out.add(m.group(1));
            }
        }
        return out;
    }

    /** Null when {@code target}, written in {@code page}, resolves; else why not. */
    private static String problem(Path page, String target) throws IOException {
        int hash = target.indexOf('#');
        String file = hash < 0 ? target : target.substring(0, hash);
        String anchor = hash < 0 ? null : target.substring(hash + 1);
        Path resolved = file.isEmpty() ? page : page.getParent().resolve(file).normalize();
        if (!resolved.startsWith(ROOT)) {
            return "outside the repository";
        }
        if (!Files.exists(resolved)) {
            return "no such file";
        }
        if (anchor == null) {
            return null;
        }
        if (!resolved.toString().endsWith(".md")) {
            return "an anchor into a file that is not Markdown";
        }
        return anchors(Files.readString(resolved)).contains(anchor) ? null : "no such heading";
    }

    private static Set<String> anchors(String markdown) {
        Set<String> out = new HashSet<>();
        boolean fence = false;
        for (String line : markdown.split("\n")) {
            if (line.startsWith("```")) {
                fence = !fence;
                continue;
            }
            if (!fence && line.matches("^#{1,6} .*")) {
                String base = slug(line.replaceFirst("^#{1,6} ", ""));
                String s = base;
                for (int i = 1; !out.add(s); i++) {
                    s = base + "-" + i; // GitHub numbers repeated headings
                }
            }
        }
        return out;
    }

    /** GitHub's heading anchors: lower case, punctuation dropped (but - and _), spaces as hyphens. */
    static String slug(String heading) {
        String text = heading.strip().toLowerCase(Locale.ROOT);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isLetterOrDigit(c) || c == '-' || c == '_') {
                b.append(c);
            } else if (c == ' ') {
                b.append('-');
            }
        }
        return b.toString();
    }
}
