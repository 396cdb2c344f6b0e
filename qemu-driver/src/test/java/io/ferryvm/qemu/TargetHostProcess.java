package io.ferryvm.qemu;

import io.ferryvm.migration.Endpoint;
import io.ferryvm.migration.HypervisorMigration;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The source's view of a target Ferry host running as another JVM ({@link TargetHostMain}): starts it with
 * this JVM's classpath and drives it over its stdin/stdout, one command line, one reply line. Closing it
 * asks the process to quit and, whatever happened, kills what is left of it and of its QEMU.
 */
final class TargetHostProcess implements HypervisorMigration.Target, AutoCloseable {
    private static final String EOF = "\u0000eof";
    private static final Duration REPLY_WAIT = Duration.ofSeconds(90);

    private final Process process;
    private final Writer commands;
    private final BlockingQueue<String> replies = new LinkedBlockingQueue<>();
    private final Path errors;
    private final HypervisorMigration.Offer offer;

    private TargetHostProcess(Process process, Path errors) {
        this.process = process;
        this.errors = errors;
        this.commands = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    if (line.startsWith(TargetHostMain.PREFIX)) {
                        replies.add(line.substring(TargetHostMain.PREFIX.length()));
                    }
                }
            } catch (IOException ignored) {
                // the process went away: EOF below says so
            }
            replies.add(EOF);
        }, "target-host-replies");
        reader.setDaemon(true);
        reader.start();
        try {
            String[] w = reply("OFFER").split(" ");
            this.offer = new HypervisorMigration.Offer(null, new Endpoint(w[1], w[2]), HexFormat.of().parseHex(w[3]));
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Starts the target host JVM for the guest spec and walk range, and reads its offer. */
    static TargetHostProcess start(Path runDir, PageWalkGuest guest, QemuGuest source, boolean lz4) {
        try {
            Files.createDirectories(runDir);
            Path java = Path.of(System.getProperty("java.home"), "bin", "java");
            List<String> cmd = new ArrayList<>(List.of(java.toString(), "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                    TargetHostMain.class.getName(), runDir.toString(), guest.disk().toString(), source.spec().id().toString(),
                    Long.toString(source.spec().memoryBytes()), Long.toString(guest.walkStart()), Long.toString(guest.walkEnd()),
                    Boolean.toString(lz4)));
            Path err = runDir.resolve("target-host.stderr");
            Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
            return new TargetHostProcess(p, err);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    long pid() {
        return process.pid();
    }

    @Override
    public HypervisorMigration.Offer offer() {
        return offer;
    }

    @Override
    public void postcopyStarted() {
        command("POSTCOPY", "POSTCOPY-STARTED");
    }

    @Override
    public long finish(boolean resume) {
        return Long.parseLong(command("FINISH " + resume, "FINISHED").split(" ")[1]);
    }

    @Override
    public void abort() {
        if (process.isAlive()) {
            command("ABORT", "ABORTED");
        }
    }

    /** Kills the target host's JVM with SIGKILL (no shutdown hook runs) and waits for it to be gone. */
    void killNine() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    /** "STATUS <VmStatus> <qemu pid>" of the target guest. */
    String status() {
        return command("STATUS", "STATUS");
    }

    /** The page-walk checks on the migrated guest, run in the target host: "CHECK ok|bad ...". */
    String check() {
        return command("CHECK", "CHECK");
    }

    private String command(String line, String expected) {
        try {
            commands.write(line + "\n");
            commands.flush();
        } catch (IOException e) {
            throw new QemuException(QemuException.Kind.MIGRATION, "target host process " + process.pid() + " took no command '" + line
                    + "': " + e.getMessage() + "; stderr: " + stderr(), e);
        }
        return reply(expected);
    }

    /** The next reply, which must start with expected; an ERROR reply or the process's end is a MIGRATION error. */
    private String reply(String expected) {
        String r;
        try {
            r = replies.poll(REPLY_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QemuException(QemuException.Kind.MIGRATION, "interrupted waiting for the target host's " + expected);
        }
        if (r == null) {
            throw new QemuException(QemuException.Kind.TIMEOUT, "target host process " + process.pid() + ": no " + expected + " within "
                    + REPLY_WAIT, new TimeoutException());
        }
        if (r.equals(EOF)) {
            replies.add(EOF);
            throw new QemuException(QemuException.Kind.MIGRATION, "target host process " + process.pid() + " ended before " + expected
                    + "; stderr: " + stderr());
        }
        if (!r.startsWith(expected)) {
            throw new QemuException(QemuException.Kind.MIGRATION, "target host: '" + r + "' where " + expected + " was expected");
        }
        return r;
    }

    private String stderr() {
        return QemuDriver.tail(errors);
    }

    /** Asks the host to quit (it closes its driver: QEMU ends); then kills whatever of it and its QEMU is left. */
    @Override
    public void close() {
        List<ProcessHandle> qemus = process.descendants().toList();
        try {
            if (process.isAlive()) {
                commands.write("QUIT\n");
                commands.flush();
                process.waitFor(30, TimeUnit.SECONDS);
            }
        } catch (IOException ignored) {
            // its stdin is gone: it is exiting or dead; the kill below covers both
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            qemus.forEach(ProcessHandle::destroyForcibly);
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }
}
