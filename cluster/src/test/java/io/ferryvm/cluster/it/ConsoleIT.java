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
 * The web console in a real browser (Debian's headless Chromium): hosts and their NUMA nodes drawn, create
 * a VM with the form, live-migrate it with the row's Migrate button under a bandwidth cap and watch the
 * iteration charts and the final report, check its memory, upload an OVA, stop and delete the VM; the
 * browser's console must stay free of errors. Screenshots go to target/ (console-migration.png is the README's).
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
            o.setCapability("goog:loggingPrefs", java.util.Map.of("browser", "ALL"));
            o.addArguments("--window-size=1400,1400", "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                    "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--user-data-dir=" + Files.createDirectories(dir.resolve("profile")));
            ChromeDriverService svc = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER).usingAnyFreePort().build();
            WebDriver d = new ChromeDriver(svc, o);
            try {
                d.get(cluster.apiUrl() + "/");
                await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                        .until(() -> d.findElement(By.id("summary")).getText().startsWith("2 host(s) up"));
                await().until(() -> d.findElement(By.id("stream")).getText().equals("events: live"));
                // Every host is drawn with its NUMA nodes, each with its CPUs and a memory bar.
                await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> d.findElements(By.cssSelector(".host[data-host]")).size() == 2
                        && d.findElements(By.cssSelector(".host .node[data-node] .cpu")).size() >= 2
                        && d.findElements(By.cssSelector(".host .node .membar")).size() >= 2);

                d.findElement(By.id("c-name")).sendKeys("browser-vm");
                new Select(d.findElement(By.id("c-workload"))).selectByVisibleText("pagewalk");
                d.findElement(By.id("c-submit")).click();
                By row = By.cssSelector("tr[data-vm='browser-vm']");
                await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                        .until(() -> d.findElement(row).findElement(By.cssSelector(".status")).getText().equals("running"));
                String from = text(d, row, "td.host");

                // The guest's pinned vCPUs and memory appear on its host's nodes, and its dirty rate in the table.
                await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> !d.findElements(
                        By.cssSelector(".host[data-host='" + from + "'] .membar .seg[data-vm='browser-vm']")).isEmpty());
                await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> text(d, row, "td.dirty").endsWith("MiB/s")
                        && !text(d, row, "td.dirty").startsWith("0.0"));

                // A bandwidth cap makes the migration last a few iterations: something to watch.
                d.findElement(By.cssSelector("#mig-options summary")).click();
                d.findElement(By.id("m-bandwidth")).clear();
                d.findElement(By.id("m-bandwidth")).sendKeys("16");
                d.findElement(By.id("m-preallocate")).click(); // the target backs the guest's memory first
                click(d, row, "button.act-migrate");
                // Points on the charts (iterations, stop-and-copy) before the picture the README shows.
                await().atMost(Duration.ofSeconds(90)).ignoreExceptions().until(() -> d.findElements(
                        By.cssSelector("#migration-view svg.chart[aria-label='remaining'] circle")).size() >= 2);
                Files.write(Path.of("target", "console-migration.png"), ((TakesScreenshot) d).getScreenshotAs(OutputType.BYTES));
                await().atMost(Duration.ofMinutes(2)).ignoreExceptions().until(() -> !text(d, row, "td.host").equals(from));
                await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> d.findElement(By.cssSelector(".migration.ok .detail"))
                        .getText().startsWith("done in"));
                assertNotEquals(from, text(d, row, "td.host"));
                // The final report and the per-iteration charts (dirty vs transfer rate, remaining, downtime vs limit).
                await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> d.findElement(By.cssSelector("#migration-view table.report"))
                        .getText().contains("migrated"));
                await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> d.findElements(By.cssSelector("#migration-view svg.chart")).size() == 4
                        && d.findElement(By.cssSelector("#migration-view")).getText().contains("limit 300 ms"));
                Files.write(Path.of("target", "console-report.png"), ((TakesScreenshot) d).getScreenshotAs(OutputType.BYTES));

                click(d, row, "button.act-check");
                await().atMost(Duration.ofMinutes(2)).ignoreExceptions().until(() -> d.findElement(By.id("log")).getText()
                        .contains("checked browser-vm: memory equals its replay"));

                // An OVA uploaded through the browser, with progress, becomes a VM.
                io.ferryvm.core.VmSpec appliance = io.ferryvm.core.VmSpec.of("uploaded-vm", 1, 16L << 20, new io.ferryvm.core.guest.Workload.Idle());
                Path ova = dir.resolve("uploaded-vm.ova");
                new io.ferryvm.ovf.OvfExporter(io.ferryvm.ovf.OvfExporter.Options.DEFAULT, io.ferryvm.ovf.OvfImporter.Progress.NONE)
                        .export(java.util.List.of(appliance), ova);
                d.findElement(By.id("u-file")).sendKeys(ova.toAbsolutePath().toString());
                d.findElement(By.id("u-submit")).click();
                await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> d.findElement(By.id("log")).getText()
                        .contains("imported uploaded-vm.ova: uploaded-vm"));
                await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> !d.findElements(By.cssSelector("tr[data-vm='uploaded-vm']")).isEmpty());

                click(d, row, "button.act-stop");
                await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                        .until(() -> d.findElement(row).findElement(By.cssSelector(".status")).getText().equals("stopped"));
                click(d, row, "button.act-delete");
                await().atMost(Duration.ofSeconds(60)).until(() -> d.findElements(row).isEmpty());
                await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                        .until(() -> d.findElement(By.id("log")).getText().contains("deleted browser-vm"));
                Files.write(Path.of("target", "console.png"), ((TakesScreenshot) d).getScreenshotAs(OutputType.BYTES));
                java.util.List<String> errors = d.manage().logs().get(org.openqa.selenium.logging.LogType.BROWSER).getAll().stream()
                        .filter(e -> e.getLevel().intValue() >= java.util.logging.Level.SEVERE.intValue()).map(Object::toString).toList();
                org.junit.jupiter.api.Assertions.assertEquals(java.util.List.of(), errors, "the browser console shows errors");
            } finally {
                d.quit();
            }
        }
    }
}
