package io.ferryvm.cluster.cli;

import io.ferryvm.core.CoreException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ferry} command line. Errors are printed as one clear line, never as a stack trace. */
@Command(name = "ferry", mixinStandardHelpOptions = true, version = "ferry 0.1.0",
        description = "Moves running virtual machines between hosts and carries VM appliances between platforms.",
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
        System.exit(execute(args));
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
