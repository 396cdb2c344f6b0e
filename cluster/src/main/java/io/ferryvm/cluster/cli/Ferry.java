package io.ferryvm.cluster.cli;

import io.ferryvm.core.CoreException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ferry} command line. Errors are printed as one clear line, never as a stack trace. */
@Command(name = "ferry", mixinStandardHelpOptions = true, version = "ferry 0.1.0",
        description = {"Moves running virtual machines between hosts and carries VM appliances between platforms.",
                "Global option: --log-format text|json (logs on stderr; json is one object per line)."},
        subcommands = {RunCommand.class, UpCommand.class, DemoCommand.class, NodeCommand.class, StatusCommand.class,
                VmCommand.class, MigrateCommand.class, HostCommand.class, OvfCommand.class, CimUserCommand.class})
public final class Ferry implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(execute(logFormat(args)));
    }

    /**
     * Takes {@code --log-format text|json} (anywhere on the line) out of the arguments and sets it for
     * logback before the first logger exists; FERRY_LOG_FORMAT in the environment does the same.
     */
    static String[] logFormat(String[] args) {
        java.util.List<String> rest = new java.util.ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String value = null;
            if (args[i].equals("--log-format") && i + 1 < args.length) {
                value = args[++i];
            } else if (args[i].startsWith("--log-format=")) {
                value = args[i].substring("--log-format=".length());
            } else {
                rest.add(args[i]);
                continue;
            }
            if (!value.equals("text") && !value.equals("json")) {
                System.err.println("ferry: --log-format '" + value + "': use text or json");
                System.exit(2);
            }
            System.setProperty("FERRY_LOG_FORMAT", value);
        }
        return rest.toArray(String[]::new);
    }

    /** Runs the CLI and returns its exit code (tests call this). */
    public static int execute(String... args) {
        CommandLine cl = new CommandLine(new Ferry());
        cl.setExecutionExceptionHandler((ex, line, parsed) -> {
            line.getErr().println("ferry: " + message(ex));
            if (ex instanceof IllegalArgumentException || ex instanceof CoreException ce && ce.kind() == CoreException.Kind.INVALID_SPEC) {
                return 2;
            }
            return 1;
        });
        return cl.execute(args);
    }

    static String message(Throwable t) {
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
    }
}
