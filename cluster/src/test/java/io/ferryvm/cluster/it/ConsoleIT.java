package io.ferryvm.cluster.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.ferryvm.cluster.node.EmbeddedCluster;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;

/**
 * The web console in a real browser (Debian's headless Chromium): create a VM with the form, live-migrate
 * it with the row's Migrate button, check its memory, stop and delete it.
 */
class ConsoleIT {
    static final File CHROMIUM = new File("/usr/bin/chromium");
    static final File DRIVER = new File("/usr/bin/chromedriver");

    /** A cell's text, read afresh until the read lands (the table is re-rendered on every event). */
    static String text(WebDriver d, By row, String cell) {
        String[] t = new String[1];
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
            t[0] = d.findElement(row).findElement(By.cssSelector(cell)).getText();
            return true;
        });
        return t[0];
    }

    /** The table is re-rendered on every event: find the button afresh until a click lands. */
    static void click(WebDriver d, By row, String button) {
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
            d.findElement(row).findElement(By.cssSelector(button)).click();
            return true;
        });
    }

    @Test
    void createMigrateCheckStopDeleteFromTheConsole(@TempDir Path dir) throws Exception {
        assumeTrue(CHROMIUM.canExecute() && DRIVER.canExecute(), "Debian's chromium and chromium-driver are not installed");
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, dir.resolve("state"), 0, Duration.ofSeconds(7))) {
            ChromeOptions o = new ChromeOptions();
            o.setBinary(CHROMIUM);
            o.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                    "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--user-data-dir=" + Files.createDirectories(dir.resolve("profile")));
            ChromeDriverService svc = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER).usingAnyFreePort().build();
            WebDriver d = new ChromeDriver(svc, o);
            try {
                d.get(cluster.apiUrl() + "/");
                await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                        .until(() -> d.findElement(By.id("summary")).getText().startsWith("2 host(s) up"));
                await().until(() -> d.findElement(By.id("stream")).getText().equals("events: live"));

                d.findElement(By.id("c-name")).sendKeys("browser-vm");
                new Select(d.findElement(By.id("c-workload"))).selectByVisibleText("pagewalk");
                d.findElement(By.id("c-submit")).click();
                By row = By.cssSelector("tr[data-vm='browser-vm']");
                await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                        .until(() -> d.findElement(row).findElement(By.cssSelector(".status")).getText().equals("running"));
                String from = text(d, row, "td.host");

                click(d, row, "button.act-migrate");
                await().atMost(Duration.ofMinutes(2)).ignoreExceptions().until(() -> !text(d, row, "td.host").equals(from));
                await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> d.findElement(By.cssSelector(".migration.ok .detail"))
                        .getText().startsWith("done in"));
                assertNotEquals(from, text(d, row, "td.host"));

                click(d, row, "button.act-check");
                await().atMost(Duration.ofMinutes(2)).ignoreExceptions().until(() -> d.findElement(By.id("log")).getText()
                        .contains("checked browser-vm: memory equals its replay"));

                click(d, row, "button.act-stop");
                await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                        .until(() -> d.findElement(row).findElement(By.cssSelector(".status")).getText().equals("stopped"));
                click(d, row, "button.act-delete");
                await().atMost(Duration.ofSeconds(60)).until(() -> d.findElements(row).isEmpty());
                await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                        .until(() -> d.findElement(By.id("log")).getText().contains("deleted browser-vm"));
                Files.write(Path.of("target", "console.png"), ((TakesScreenshot) d).getScreenshotAs(OutputType.BYTES));
            } finally {
                d.quit();
            }
        }
    }
}
