package io.ferryvm.cim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SecurityUnitTest {
    @Test
    void passwordHashesAreSaltedAndVerify() {
        String a = PasswordHash.hash("pw-1".toCharArray(), 1000);
        String b = PasswordHash.hash("pw-1".toCharArray(), 1000);
        assertNotEquals(a, b, "a random salt per hash");
        assertTrue(PasswordHash.verify("pw-1".toCharArray(), a));
        assertFalse(PasswordHash.verify("pw-2".toCharArray(), a));
        assertFalse(PasswordHash.verify("pw-1".toCharArray(), "pw-1"), "plain text is never a hash");
        assertFalse(PasswordHash.verify("x".toCharArray(), "pbkdf2-sha256:99999999999:AA==:AA=="));
        assertTrue(PasswordHash.isHash(a));
        assertTrue(PasswordHash.hash("p".toCharArray()).startsWith("pbkdf2-sha256:" + PasswordHash.ITERATIONS + ":"));
    }

    @Test
    void usersNeedHashesAndParseFromTheirLine() {
        assertThrows(IllegalArgumentException.class, () -> CimUser.administrator("admin", "secret"));
        CimUser u = new CimUser("ops", PasswordHash.hash("x".toCharArray(), 1000), Map.of("root/virtualization", CimUser.Access.READ));
        CimUser back = CimUser.parse(u.line());
        assertEquals(u, back);
        assertTrue(back.mayRead("ROOT/virtualization"));
        assertFalse(back.mayWrite("root/virtualization"));
        assertFalse(back.mayRead("root/interop"));
        assertThrows(IllegalArgumentException.class, () -> CimUser.parse("ops:" + u.passwordHash() + ":root/x=admin"));
        assertThrows(IllegalArgumentException.class, () -> CimUser.parse("bad name:" + u.passwordHash() + ":root/x=r"));
    }

    @Test
    void authenticationNeedsBasicCredentialsOfAKnownUser() {
        CimUser admin = CimUser.administrator("admin", PasswordHash.hash("right".toCharArray(), 1000));
        Authenticator auth = new Authenticator(List.of(admin), Clock.systemUTC());
        assertEquals(admin, auth.authenticate(basic("admin:right"), "test").orElseThrow());
        assertEquals(admin, auth.authenticate(basic("admin:right"), "test").orElseThrow(), "remembered");
        assertTrue(auth.authenticate(null, "test").isEmpty());
        assertTrue(auth.authenticate("", "test").isEmpty());
        assertTrue(auth.authenticate(basic("admin:wrong"), "test").isEmpty());
        assertTrue(auth.authenticate(basic("nobody:right"), "test").isEmpty());
        assertTrue(auth.authenticate(basic("admin"), "test").isEmpty(), "no colon");
        assertTrue(auth.authenticate("Basic !!!notbase64", "test").isEmpty());
        assertTrue(auth.authenticate("Bearer abc", "test").isEmpty());
        assertTrue(auth.authenticate("Basic " + Base64.getEncoder().encodeToString(new byte[] {(byte) 0xC3, 0x28, ':', 'x'}), "test")
                .isEmpty(), "not UTF-8");
        assertTrue(auth.authenticate("Basic " + "A".repeat(5000), "test").isEmpty());
    }

    private static String basic(String userColonPassword) {
        return "Basic " + Base64.getEncoder().encodeToString(userColonPassword.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void listenerDestinationsMustBeInTheAllowList() {
        ListenerPolicy p = new ListenerPolicy(List.of("127.0.0.1", "10.1.0.0/16:5990", "listener.example.com", "[::1]:6000"));
        assertEquals(5999, p.check("http://127.0.0.1:5999/cim").getPort());
        p.check("https://10.1.200.3:5990/");
        p.check("http://listener.example.com/x");
        p.check("http://[::1]:6000/");
        for (String denied : List.of("http://127.0.0.2:5999/", "http://10.1.200.3:5991/", "http://10.2.0.1:5990/",
                "http://169.254.169.254/latest/meta-data/", "http://localhost:5999/", "http://LISTENER.example.com.evil.net/",
                "http://[::1]:6001/", "http://2130706433:5999/")) {
            CimException e = assertThrows(CimException.class, () -> p.check(denied), denied);
            assertEquals(CimStatus.ACCESS_DENIED, e.status(), denied);
        }
        for (String invalid : List.of("file:///etc/passwd", "gopher://127.0.0.1/", "http://user:pw@127.0.0.1/", "not a url", "http:///x")) {
            assertThrows(CimException.class, () -> p.check(invalid), invalid);
        }
        assertThrows(CimException.class, () -> new ListenerPolicy(List.of()).check("http://127.0.0.1:5999/"), "empty: deny all");
        assertThrows(IllegalArgumentException.class, () -> new ListenerPolicy(List.of("host/8")));
    }
}
