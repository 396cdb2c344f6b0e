package io.ferryvm.migration;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.Objects;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

/**
 * Channels over mutually authenticated TLS: both ends present a certificate issued by the cluster's
 * authority (the {@link SSLContext}'s key and trust material), so a process that is not a member cannot
 * open a channel, let alone present a token or push a page. TLS 1.3 only. The one-time token is still
 * checked on every channel: a certificate says "a member", the token says "this migration".
 *
 * <p>Implementation notes. Blocking sockets; the handshake happens on a channel's first read or write,
 * on the receiver's thread, so a peer that never completes it delays only its own channel, never the
 * listener's accept loop. Outgoing channels may go through a SOCKS5 proxy, which then sees only
 * ciphertext. Endpoints are named "tls" so that a plain-TCP source and a TLS target refuse each other.
 */
public final class TlsTransport implements Transport {
    static final String NAME = "tls";
    private static final String[] PROTOCOLS = {"TLSv1.3"};
    private static final int SOCKET_BUFFER = 4 << 20;

    private final SSLContext context;
    private final String bindAddress;
    private final InetSocketAddress socks;

    /** socksProxy "host:port" or null, as for {@link TcpTransport}. */
    public TlsTransport(SSLContext context, String bindAddress, String socksProxy) {
        this.context = Objects.requireNonNull(context, "context");
        this.bindAddress = bindAddress == null ? "127.0.0.1" : bindAddress;
        this.socks = socksProxy == null || socksProxy.isBlank() ? null : Socks5.parse(socksProxy.trim());
    }

    @Override
    public Listener listen(String name) throws IOException {
        SSLServerSocket server = (SSLServerSocket) context.getServerSocketFactory().createServerSocket();
        try {
            server.setReceiveBufferSize(SOCKET_BUFFER);
            server.bind(new InetSocketAddress(InetAddress.getByName(bindAddress), 0), 16);
            server.setEnabledProtocols(PROTOCOLS);
            server.setNeedClientAuth(true);
        } catch (IOException | IllegalArgumentException e) {
            server.close();
            throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
        }
        Endpoint endpoint = new Endpoint(NAME, bindAddress + ":" + server.getLocalPort());
        return new Listener() {
            @Override
            public Endpoint endpoint() {
                return endpoint;
            }

            @Override
            public FrameChannel accept() throws IOException {
                return new SocketChannelAdapter(configure(server.accept()));
            }

            @Override
            public void close() {
                try {
                    server.close();
                } catch (IOException ignored) {
                    // already closed: nothing listens either way
                }
            }
        };
    }

    @Override
    public FrameChannel connect(Endpoint endpoint) throws IOException {
        if (!NAME.equals(endpoint.transport())) {
            throw new IOException("not a TLS endpoint: " + endpoint + " (this host speaks TLS only)");
        }
        InetSocketAddress to = TcpTransport.address(endpoint);
        Socket plain = new Socket();
        try {
            plain.setSendBufferSize(SOCKET_BUFFER);
            if (socks == null) {
                plain.connect(new InetSocketAddress(to.getHostString(), to.getPort()));
            } else {
                plain.connect(new InetSocketAddress(socks.getHostString(), socks.getPort()));
                Socks5.connect(plain.getInputStream(), plain.getOutputStream(), to.getHostString(), to.getPort(), socks.toString());
            }
            SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket(plain, to.getHostString(), to.getPort(), true);
            s.setEnabledProtocols(PROTOCOLS);
            s.setUseClientMode(true);
            s.startHandshake(); // fail here, with the reason, rather than on the first frame
            return new SocketChannelAdapter(configure(s));
        } catch (IOException | RuntimeException e) {
            plain.close();
            throw e instanceof IOException io ? io : new IOException("TLS to " + endpoint + ": " + e.getMessage(), e);
        }
    }

    private static Socket configure(Socket s) throws IOException {
        s.setTcpNoDelay(true);
        s.setSendBufferSize(SOCKET_BUFFER);
        s.setReceiveBufferSize(SOCKET_BUFFER);
        return s;
    }

    /** A blocking socket (TLS here) as a frame channel. */
    private static final class SocketChannelAdapter implements FrameChannel {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;
        private final byte[] readBuffer = new byte[64 << 10];
        private final byte[] writeBuffer = new byte[64 << 10];
        private final String name;

        SocketChannelAdapter(Socket socket) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
            this.out = new BufferedOutputStream(socket.getOutputStream(), 64 << 10);
            this.name = "tls " + socket.getLocalSocketAddress() + "->" + socket.getRemoteSocketAddress();
        }

        @Override
        public synchronized void write(ByteBuffer[] buffers) throws IOException {
            for (ByteBuffer b : buffers) {
                if (b.hasArray()) {
                    out.write(b.array(), b.arrayOffset() + b.position(), b.remaining());
                    b.position(b.limit());
                } else {
                    while (b.hasRemaining()) {
                        int n = Math.min(writeBuffer.length, b.remaining());
                        b.get(writeBuffer, 0, n);
                        out.write(writeBuffer, 0, n);
                    }
                }
            }
            out.flush();
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            int n = in.read(readBuffer, 0, Math.min(readBuffer.length, dst.remaining()));
            if (n > 0) {
                dst.put(readBuffer, 0, n);
            }
            return n;
        }

        @Override
        public void close() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing a broken socket: it is gone either way
            }
        }

        @Override
        public String name() {
            return name;
        }
    }
}
