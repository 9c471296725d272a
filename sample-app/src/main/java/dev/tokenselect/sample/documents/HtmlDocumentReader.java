package dev.tokenselect.sample.documents;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.jsoup.Jsoup;
import org.jsoup.nodes.Element;
import org.jsoup.nodes.Node;
import org.jsoup.nodes.TextNode;
import org.jsoup.select.NodeVisitor;
import org.springframework.ai.document.Document;
import org.springframework.ai.document.DocumentReader;
import org.springframework.core.io.Resource;

/**
 * An HTML page as one document of its visible text, with a line break at every block element so paragraphs, list
 * items and table rows stay apart; scripts, styles and other invisible parts are left out. (Spring AI 2.0 has no
 * jsoup reader of its own; this one uses jsoup the same way.)
 */
public class HtmlDocumentReader implements DocumentReader {

    private static final Set<String> BLOCKS = Set.of("p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6",
            "pre", "blockquote", "section", "article", "header", "footer", "table", "ul", "ol", "dl", "dt", "dd", "hr",
            "main", "nav", "aside", "figure", "figcaption", "address");
    private static final String INVISIBLE = "script, style, noscript, template, head, svg, iframe, object";

    private final Resource resource;

    public HtmlDocumentReader(Resource resource) {
        this.resource = resource;
    }

    @Override
    public List<Document> get() {
        org.jsoup.nodes.Document page;
        try (InputStream in = resource.getInputStream()) {
            page = Jsoup.parse(in, StandardCharsets.UTF_8.name(), "");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the HTML of " + resource.getDescription(), e);
        }
        String title = page.title();
        page.select(INVISIBLE).remove();
        StringBuilder text = new StringBuilder();
        page.body().traverse(new NodeVisitor() {
            @Override
            public void head(Node node, int depth) {
                if (node instanceof TextNode t) {
                    String s = t.text();
                    if (!s.isBlank()) {
                        if (!text.isEmpty() && !Character.isWhitespace(text.charAt(text.length() - 1))
                                && Character.isWhitespace(s.charAt(0))) {
                            text.append(' ');
                        }
                        text.append(s.strip());
                        if (Character.isWhitespace(s.charAt(s.length() - 1))) {
                            text.append(' ');
                        }
                    }
                } else if (node instanceof Element e && BLOCKS.contains(e.normalName())) {
                    newline(text);
                }
            }

            @Override
            public void tail(Node node, int depth) {
                if (node instanceof Element e && BLOCKS.contains(e.normalName())) {
                    newline(text);
                }
            }
        });
        String body = text.toString().replaceAll("[ \\t]+\\n", "\n").replaceAll("\\n{3,}", "\n\n").strip();
        return List.of(new Document(body, title.isBlank() ? Map.of() : Map.of("title", title)));
    }

    private static void newline(StringBuilder text) {
        if (!text.isEmpty() && text.charAt(text.length() - 1) != '\n') {
            text.append('\n');
        }
    }
}
