package io.ferryvm.migration;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * The client half of a SOCKS5 CONNECT (RFC 1928, no authentication), for channels that must go through
 * a proxy: a site's egress proxy, or a fault-injecting proxy in chaos runs. Runs on a connected,
 * blocking stream before any frame; afterwards the stream is a plain tunnel to the target.
 */
final class Socks5 {
    private static final int VERSION = 5;
    private static final int NO_AUTH = 0;
    private static final int CONNECT = 1;
    private static final int ATYP_IPV4 = 1;
    private static final int ATYP_DOMAIN = 3;
    private static final int ATYP_IPV6 = 4;

    private Socks5() {}

    /** Asks the proxy on the other end of in/out to connect to host:port; throws with the proxy's reason if it will not. */
    static void connect(InputStream in, OutputStream out, String host, int port, String proxy) throws IOException {
        out.write(new byte[] {VERSION, 1, NO_AUTH});
        out.flush();
        DataInputStream d = new DataInputStream(in);
        int v = d.readUnsignedByte();
        int method = d.readUnsignedByte();
        if (v != VERSION || method != NO_AUTH) {
            throw new IOException("SOCKS proxy " + proxy + " refused: version " + v + ", method " + method);
        }
        byte[] name = host.getBytes(StandardCharsets.US_ASCII);
        if (name.length == 0 || name.length > 255) {
            throw new IOException("SOCKS target host '" + host + "' must be 1..255 characters");
        }
        byte[] req = new byte[7 + name.length];
        req[0] = VERSION;
        req[1] = CONNECT;
        req[2] = 0;
        req[3] = ATYP_DOMAIN;
        req[4] = (byte) name.length;
        System.arraycopy(name, 0, req, 5, name.length);
        req[5 + name.length] = (byte) (port >>> 8);
        req[6 + name.length] = (byte) port;
        out.write(req);
        out.flush();
        int rv = d.readUnsignedByte();
        int rep = d.readUnsignedByte();
        d.readUnsignedByte(); // reserved
        int atyp = d.readUnsignedByte();
        int skip = switch (atyp) {
            case ATYP_IPV4 -> 4;
            case ATYP_IPV6 -> 16;
            case ATYP_DOMAIN -> d.readUnsignedByte();
            default -> throw new IOException("SOCKS proxy " + proxy + " answered with address type " + atyp);
        };
        d.readFully(new byte[skip + 2]); // bound address and port: unused
        if (rv != VERSION || rep != 0) {
            throw new IOException("SOCKS proxy " + proxy + " could not connect to " + host + ":" + port + " (reply " + rep + ")");
        }
    }

    /** "host:port" as an address, checked. */
    static InetSocketAddress parse(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("'" + hostPort + "' is not host:port");
        }
        int port;
        try {
            port = Integer.parseInt(hostPort.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + hostPort + "' has no numeric port");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("'" + hostPort + "': port outside 1..65535");
        }
        return InetSocketAddress.createUnresolved(hostPort.substring(0, colon), port);
    }
}
