package io.ferryvm.cluster.cli;

import io.ferryvm.cim.CimUser;
import io.ferryvm.cim.PasswordHash;
import io.ferryvm.cluster.cim.CimSetup;
import java.io.BufferedReader;
import java.io.Console;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ferry cim-user}: adds a CIM user (or sets a password) in a users file, storing a salted hash only. */
@Command(name = "cim-user", mixinStandardHelpOptions = true,
        description = "Add a CIM (WBEM) user or change its password; reads the password from the terminal or stdin.")
final class CimUserCommand implements Callable<Integer> {
    @Parameters(index = "0", description = "The user name.")
    String name;

    @Option(names = "--users-file", description = "The users file (default: ~/.ferry/up/cim/" + CimSetup.USERS_FILE + ").")
    Path usersFile;

    @Option(names = "--read-only", description = "Read access only (default: read and write).")
    boolean readOnly;

    @Option(names = "--namespace", description = "Namespaces the user may use (repeat; default root/virtualization and root/interop).")
    List<String> namespaces = List.of("root/virtualization", "root/interop");

    @Override
    public Integer call() throws Exception {
        Path file = usersFile != null ? usersFile : Path.of(System.getProperty("user.home"), ".ferry", "up", "cim", CimSetup.USERS_FILE);
        char[] password = readPassword();
        if (password.length < 8) {
            throw new IllegalArgumentException("the password must have at least 8 characters");
        }
        Map<String, CimUser.Access> grants = new LinkedHashMap<>();
        for (String ns : namespaces) {
            grants.put(ns, readOnly ? CimUser.Access.READ : CimUser.Access.WRITE);
        }
        CimUser user = new CimUser(name, PasswordHash.hash(password), grants);
        java.util.Arrays.fill(password, '\0');
        List<CimUser> users = new ArrayList<>();
        if (Files.exists(file)) {
            for (CimUser u : CimSetup.readUsers(file)) {
                if (!u.name().equals(name)) {
                    users.add(u);
                }
            }
        }
        users.add(user);
        CimSetup.writeUsers(file, users);
        System.out.println("CIM user " + name + " saved in " + file + " (restart the node to apply)");
        return 0;
    }

    private static char[] readPassword() throws java.io.IOException {
        Console c = System.console();
        if (c != null) {
            char[] a = c.readPassword("password: ");
            char[] b = c.readPassword("again: ");
            if (a == null || !java.util.Arrays.equals(a, b)) {
                throw new IllegalArgumentException("the passwords differ");
            }
            return a;
        }
        String line = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        if (line == null) {
            throw new IllegalArgumentException("no password on stdin");
        }
        return line.toCharArray();
    }
}
