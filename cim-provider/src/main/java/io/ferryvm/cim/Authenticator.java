package io.ferryvm.cim;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTP Basic authentication against the configured users. Every request must carry credentials; a
 * missing or malformed Authorization header, an unknown user and a wrong password all fail the same way
 * (401) and are logged with the client address.
 *
 * <p>Implementation notes: a PBKDF2 check costs tens of milliseconds by design, so a successful check
 * is remembered for ten minutes under an HMAC of the header (a per-process random key: the header is
 * never stored), and at most two checks run at once, so a flood of wrong passwords cannot take every
 * core.
 */
final class Authenticator {
    private static final Logger LOG = LoggerFactory.getLogger(Authenticator.class);
    static final Duration REMEMBER = Duration.ofMinutes(10);
    private static final int MAX_REMEMBERED = 4096;

    private record Remembered(CimUser user, Instant until) {}

    private final Map<String, CimUser> users = new HashMap<>();
    private final Map<String, Remembered> remembered = new ConcurrentHashMap<>();
    private final Semaphore checks = new Semaphore(2);
    private final byte[] key = new byte[32];
    private final Clock clock;
    private final String dummyHash;

    Authenticator(Iterable<CimUser> configured, Clock clock) {
        for (CimUser u : configured) {
            if (users.put(u.name(), u) != null) {
                throw new IllegalArgumentException("CIM user " + u.name() + " is configured twice");
            }
        }
        new SecureRandom().nextBytes(key);
        this.clock = clock;
        this.dummyHash = users.values().iterator().next().passwordHash();
    }

    /** The user the Authorization header proves, or empty (logged). */
    Optional<CimUser> authenticate(String authorization, String client) {
        if (authorization == null || authorization.isBlank()) {
            LOG.warn("CIM request without credentials from {} refused", client);
            return Optional.empty();
        }
        String mac = mac(authorization);
        Remembered r = remembered.get(mac);
        Instant now = clock.instant();
        if (r != null && r.until().isAfter(now)) {
            return Optional.of(r.user());
        }
        String[] parts = authorization.trim().split("\\s+", 2);
        if (parts.length != 2 || !parts[0].equalsIgnoreCase("Basic") || parts[1].length() > 1024) {
            LOG.warn("CIM login from {} failed: not HTTP Basic credentials", client);
            return Optional.empty();
        }
        char[] decoded;
        try {
            decoded = utf8(Base64.getDecoder().decode(parts[1]));
        } catch (IllegalArgumentException | CharacterCodingException e) {
            LOG.warn("CIM login from {} failed: malformed Basic credentials", client);
            return Optional.empty();
        }
        int colon = -1;
        for (int i = 0; i < decoded.length; i++) {
            if (decoded[i] == ':') {
                colon = i;
                break;
            }
        }
        if (colon < 0) {
            Arrays.fill(decoded, '\0');
            LOG.warn("CIM login from {} failed: malformed Basic credentials", client);
            return Optional.empty();
        }
        String name = new String(decoded, 0, colon);
        char[] password = Arrays.copyOfRange(decoded, colon + 1, decoded.length);
        Arrays.fill(decoded, '\0');
        CimUser user = users.get(name);
        boolean ok;
        try {
            if (!checks.tryAcquire(10, TimeUnit.SECONDS)) {
                LOG.warn("CIM login of '{}' from {} refused: too many password checks at once", printable(name), client);
                return Optional.empty();
            }
            try {
                // an unknown user costs as much as a known one: no user enumeration by timing
                ok = PasswordHash.verify(password, user != null ? user.passwordHash() : dummyHash) && user != null;
            } finally {
                checks.release();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        } finally {
            Arrays.fill(password, '\0');
        }
        if (!ok) {
            LOG.warn("CIM login of '{}' from {} failed: {}", printable(name), client, user == null ? "no such user" : "wrong password");
            return Optional.empty();
        }
        if (remembered.size() >= MAX_REMEMBERED) {
            remembered.clear();
        }
        remembered.put(mac, new Remembered(user, now.plus(REMEMBER)));
        return Optional.of(user);
    }

    private static char[] utf8(byte[] bytes) throws CharacterCodingException {
        CharBuffer cb = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes));
        char[] out = new char[cb.remaining()];
        cb.get(out);
        Arrays.fill(bytes, (byte) 0);
        return out;
    }

    private static String printable(String s) {
        String t = s.length() > 64 ? s.substring(0, 64) + "..." : s;
        return t.replaceAll("[^\\x20-\\x7E]", "?");
    }

    private String mac(String header) {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(new SecretKeySpec(key, "HmacSHA256"));
            return HexFormat.of().formatHex(m.doFinal(header.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JDK", e);
        }
    }
}
