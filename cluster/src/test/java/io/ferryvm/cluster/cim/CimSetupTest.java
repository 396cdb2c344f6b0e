package io.ferryvm.cluster.cim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.cim.CimUser;
import io.ferryvm.cim.PasswordHash;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The users file of a node's CIM server: generated once with a salted hash, never the password. */
class CimSetupTest {
    @Test
    void aFirstStartGeneratesAnAdminWhosePasswordIsStoredOnlyAsAHash(@TempDir Path dir) throws Exception {
        CimSetup.Prepared first = CimSetup.prepare(dir, "127.0.0.1", 0, 0, null, List.of("127.0.0.1"));
        String password = first.generatedPassword();
        assertNotNull(password);
        assertEquals(20, password.length());
        String file = Files.readString(first.usersFile());
        assertFalse(file.contains(password), "the password itself is never written");
        CimUser admin = first.config().users().get(0);
        assertEquals("admin", admin.name());
        assertTrue(PasswordHash.verify(password.toCharArray(), admin.passwordHash()));
        assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(first.usersFile()));
        CimSetup.Prepared again = CimSetup.prepare(dir, "127.0.0.1", 0, 0, null, List.of());
        assertNull(again.generatedPassword(), "the next start keeps the users it has");
        assertEquals(admin, again.config().users().get(0));
    }

    @Test
    void usersFilesAreCheckedLineByLine(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("users");
        Files.writeString(f, "# comment\n\nops:secret:root/virtualization=rw\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CimSetup.readUsers(f));
        assertTrue(e.getMessage().contains("line 3"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CimSetup.prepare(dir, "127.0.0.1", 0, 0, dir.resolve("missing"), List.of()));
        CimUser ops = new CimUser("ops", PasswordHash.hash("pw-pw-pw".toCharArray()), java.util.Map.of("root/interop", CimUser.Access.READ));
        CimSetup.writeUsers(f, List.of(ops));
        assertEquals(List.of(ops), CimSetup.readUsers(f));
    }
}
