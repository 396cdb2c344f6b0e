package io.ferryvm.cluster.cim;

import io.ferryvm.cim.CimServerConfig;
import io.ferryvm.cim.CimUser;
import io.ferryvm.cim.PasswordHash;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;

/**
 * The CIM server's configuration for a node: users come from a users file (one
 * {@link CimUser#line()} per line, salted password hashes only, never passwords); a node that has none
 * yet gets an {@code admin} user with a random password, shown once and stored only as a hash.
 */
public final class CimSetup {
    public static final String USERS_FILE = "cim-users";
    private static final String ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

    /** The configuration, where its users live, and the admin password when it was generated just now (else null). */
    public record Prepared(CimServerConfig config, Path usersFile, String generatedPassword) {}

    private CimSetup() {}

    /**
     * Serving on host with the given ports (-1 off, 0 any free), the certificate and users kept in dir
     * (users in usersFile when given), indications allowed to the listed destinations.
     */
    public static Prepared prepare(Path dir, String host, int httpPort, int httpsPort, Path usersFile, List<String> listenerAllowList) {
        Path users = usersFile != null ? usersFile : dir.resolve(USERS_FILE);
        String generated = null;
        if (!Files.exists(users)) {
            if (usersFile != null) {
                throw new IllegalArgumentException("CIM users file " + usersFile + " does not exist");
            }
            generated = randomPassword();
            writeUsers(users, List.of(CimUser.administrator("admin", PasswordHash.hash(generated.toCharArray()))));
        }
        CimServerConfig config = new CimServerConfig(host, httpPort, httpsPort, dir, null, null, readUsers(users), listenerAllowList,
                "ferry", CimServerConfig.Limits.DEFAULT);
        return new Prepared(config, users, generated);
    }

    /** Users, one per line; blank lines and # comments are skipped. */
    public static List<CimUser> readUsers(Path file) {
        List<CimUser> out = new ArrayList<>();
        try {
            int n = 0;
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                n++;
                String t = line.trim();
                if (t.isEmpty() || t.startsWith("#")) {
                    continue;
                }
                try {
                    out.add(CimUser.parse(t));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(file + " line " + n + ": " + e.getMessage(), e);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read CIM users from " + file, e);
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(file + " names no CIM user");
        }
        return out;
    }

    /** Writes a users file readable by its owner only (atomically: temp file, then rename). */
    public static void writeUsers(Path file, List<CimUser> users) {
        StringBuilder b = new StringBuilder("# Ferry CIM users: name:" + "pbkdf2-sha256:iterations:salt:hash:namespace=r|rw,...\n"
                + "# Passwords are stored as salted hashes only; add or reset one with: ferry cim-user NAME --users-file "
                + file + "\n");
        for (CimUser u : users) {
            b.append(u.line()).append('\n');
        }
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(tmp, "", StandardCharsets.UTF_8);
            try {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system: the directory's permissions apply
            }
            Files.writeString(tmp, b.toString(), StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write CIM users to " + file, e);
        }
    }

    static String randomPassword() {
        SecureRandom r = new SecureRandom();
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            b.append(ALPHABET.charAt(r.nextInt(ALPHABET.length())));
        }
        return b.toString();
    }
}
