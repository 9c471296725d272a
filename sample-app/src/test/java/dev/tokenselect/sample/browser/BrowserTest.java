package dev.tokenselect.sample.browser;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

import dev.tokenselect.sample.AppTestBase;
import dev.tokenselect.sample.Needles;

/**
 * As a person would: in headless Chromium, upload a document holding a fact on the corpora page, watch it become
 * ready, ask about it on the chat page, and see the answer arrive piece by piece with the fact and its statistics.
 */
class BrowserTest extends AppTestBase {

    ChromeDriver browser;

    @BeforeEach
    void start() throws Exception {
        deleteAllCorpora();
        browser = Browser.start(1200, 900);
    }

    @AfterEach
    void stop() throws Exception {
        if (browser != null) {
            browser.quit();
        }
        deleteAllCorpora();
    }

    @Test
    void uploadADocumentThenAskAboutItAndSeeTheAnswerStreamWithItsStatistics(@TempDir Path dir) throws Exception {
        Path notes = Files.writeString(dir.resolve("field-notes.txt"), Needles.notes(Needles.KEY, Needles.CODE));
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(60));
        wait.ignoring(StaleElementReferenceException.class); // the corpora table is redrawn as it is polled

        browser.get(base() + "/corpora.html");
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("engine"), "needle-14m"));
        browser.findElement(By.id("corpus-name")).sendKeys("field-notes");
        browser.findElement(By.id("files")).sendKeys(notes.toString());
        browser.findElement(By.id("upload-button")).click();
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("upload-info"), "added to field-notes"));
        String ready = wait.until(d -> {
            String text = d.findElement(By.cssSelector("tr[data-corpus='field-notes']")).getText();
            return text.contains("ready") ? text : null;
        });
        assertThat(ready).contains("field-notes.txt", "CPU memory", "MiB").containsPattern("1,\\d{3}");

        // from the row's Ask link to the chat page, with the corpus chosen
        wait.until(d -> {
            d.findElement(By.cssSelector("tr[data-corpus='field-notes'] a")).click();
            return true;
        });
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("corpus"), "field-notes"));
        assertThat(new Select(browser.findElement(By.id("corpus"))).getFirstSelectedOption().getAttribute("value"))
                .isEqualTo("field-notes");
        // every text the answer shows, as it changes
        ((JavascriptExecutor) browser).executeScript("""
                window.seen = [];
                new MutationObserver(() => {
                  const a = document.querySelector('.answer');
                  if (a) window.seen.push(a.textContent);
                }).observe(document.getElementById('conversation'), {subtree: true, childList: true, characterData: true});
                """);
        browser.findElement(By.id("question")).sendKeys(Needles.QUESTION);
        browser.findElement(By.id("ask-button")).click();

        WebElement stats = wait.until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector("dl.stats")));
        String answer = browser.findElement(By.cssSelector(".answer")).getText();
        assertThat(answer).contains(Needles.CODE);
        @SuppressWarnings("unchecked")
        List<String> seen = (List<String>) ((JavascriptExecutor) browser).executeScript("return window.seen;");
        // at least one shorter text before the whole answer: the deltas that reach the page within one
        // rendering are drawn together, so how many a short answer shows depends on the machine's load
        List<String> partial = seen.stream().filter(s -> !s.isEmpty() && !s.equals(answer)).distinct().toList();
        assertThat(partial).as("the answer grew piece by piece: %s", seen).isNotEmpty()
                .allSatisfy(s -> assertThat(answer).startsWith(s));
        assertThat(stats.getText()).contains("Time to first token", "Tokens per second", "Cached tokens",
                "Attended per step", "Selection cache hits");
        assertThat(stats.findElements(By.tagName("dd"))).hasSize(9)
                .allSatisfy(dd -> assertThat(dd.getText()).isNotBlank().doesNotContain("–"));
        assertThat(browser.findElement(By.id("chat-error")).getText()).isEmpty();
    }

    @Test
    void aRefusedUploadIsExplainedOnThePage(@TempDir Path dir) throws Exception {
        Path program = Files.write(dir.resolve("setup.exe"), new byte[] {'M', 'Z', 0, 1, 2, 3});
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
        browser.get(base() + "/corpora.html");
        browser.findElement(By.id("corpus-name")).sendKeys("tools");
        browser.findElement(By.id("files")).sendKeys(program.toString());
        browser.findElement(By.id("upload-button")).click();
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("upload-error"), "setup.exe"));
        assertThat(browser.findElement(By.id("upload-error")).getText())
                .contains("is not a kind of document this app reads", "PDF (.pdf)");
        assertThat(browser.findElements(By.cssSelector("tr[data-corpus]"))).isEmpty();
    }
}
