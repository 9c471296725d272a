package dev.tokenselect.sample.browser;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import dev.tokenselect.sample.AppTestBase;
import dev.tokenselect.sample.Multipart.Part;
import dev.tokenselect.sample.Needles;
import dev.tokenselect.sample.Pdfs;

/**
 * Takes the README's screenshots of the chat and corpora pages (docs/screenshots/*.png) in headless Chromium. Not a
 * test: run it with {@code ./mvnw -o -pl sample-app -am test -Dtest=ScreenshotCapture -Dgroups=screenshots
 * -Dsurefire.excludedGroups=none -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@Tag("screenshots")
class ScreenshotCapture extends AppTestBase {

    static final Path OUT = Path.of("..", "docs", "screenshots");

    @Test
    void chatAndCorporaPages(@TempDir Path dir) throws Exception {
        deleteAllCorpora();
        upload("field-notes", List.of(Part.text("field-notes.txt", Needles.notes(Needles.KEY, Needles.CODE))));
        upload("release-notes", List.of(
                new Part("upgrade-guide.md", "text/markdown", ("# Upgrading\n\n" + Needles.notes("copper", "557120", 120))
                        .getBytes(StandardCharsets.UTF_8)),
                new Part("changes.pdf", "application/pdf", Pdfs.of("The special code for lantern is 902113."))));
        awaitReady("field-notes", Duration.ofSeconds(60));
        awaitReady("release-notes", Duration.ofSeconds(60));
        Files.createDirectories(OUT);
        ChromeDriver browser = Browser.start(1200, 1000);
        try {
            WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(60));
            wait.ignoring(StaleElementReferenceException.class);
            browser.get(base() + "/corpora.html");
            wait.until(ExpectedConditions.numberOfElementsToBe(By.cssSelector("tr[data-corpus]"), 2));
            // a third corpus, large enough to be caught with its progress bar part way
            upload("handbook", List.of(Part.text("handbook.txt", Needles.notes("anchor", "731904", 1400))));
            wait.withTimeout(Duration.ofSeconds(120)).until(d -> {
                String row = d.findElement(By.cssSelector("tr[data-corpus='handbook']")).getText();
                return row.contains("prefilling") && !row.contains("(0.0 %)");
            });
            save(browser, "corpora.png");
            awaitReady("handbook", Duration.ofSeconds(180));

            browser.get(base() + "/index.html?corpus=field-notes");
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("corpus"), "field-notes"));
            browser.findElement(By.id("question")).sendKeys(Needles.QUESTION);
            browser.findElement(By.id("ask-button")).click();
            wait.until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector("dl.stats")));
            save(browser, "chat.png");
        } finally {
            browser.quit();
            deleteAllCorpora();
        }
    }

    private static void save(ChromeDriver browser, String name) throws Exception {
        Path png = browser.getScreenshotAs(OutputType.FILE).toPath();
        Files.copy(png, OUT.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    }
}
