package io.ferryvm.migration;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * Channels over TCP: one connection per channel, blocking NIO, Nagle off, large socket buffers. The
 * listener binds an ephemeral port on the given address (127.0.0.1 by default). Outgoing channels may go
 * through a SOCKS5 proxy (a site's egress proxy; chaos runs put a fault-injecting one there).
 */
public final class TcpTransport implements Transport {
    private static final int SOCKET_BUFFER = 4 << 20;
    private final String bindAddress;
    private final InetSocketAddress socks;

    public TcpTransport() {
        this("127.0.0.1");
    }

    public TcpTransport(String bindAddress) {
        this(bindAddress, null);
    }

    /** With socksProxy "host:port", every outgoing channel is a SOCKS5 CONNECT through it; null connects directly. */
    public TcpTransport(String bindAddress, String socksProxy) {
        this.bindAddress = bindAddress;
        this.socks = socksProxy == null || socksProxy.isBlank() ? null : Socks5.parse(socksProxy.trim());
    }

    @Override
    public Listener listen(String name) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open();
        try {
            server.setOption(StandardSocketOptions.SO_RCVBUF, SOCKET_BUFFER);
            server.bind(new InetSocketAddress(bindAddress, 0), 16);
        } catch (IOException e) {
            server.close();
            throw e;
        }
        InetSocketAddress at = (InetSocketAddress) server.getLocalAddress();
        Endpoint endpoint = new Endpoint("tcp", at.getHostString() + ":" + at.getPort());
        return new Listener() {
            @Override
            public Endpoint endpoint() {
                return endpoint;
            }

            @Override
            public FrameChannel accept() throws IOException {
                return new TcpChannel(configure(server.accept()));
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
        if (!"tcp".equals(endpoint.transport())) {
            throw new IOException("not a TCP endpoint: " + endpoint);
        }
        InetSocketAddress to = address(endpoint);
        SocketChannel ch = SocketChannel.open();
        try {
            ch.setOption(StandardSocketOptions.SO_SNDBUF, SOCKET_BUFFER);
            if (socks == null) {
                ch.connect(new InetSocketAddress(to.getHostString(), to.getPort()));
            } else {
                ch.connect(new InetSocketAddress(socks.getHostString(), socks.getPort()));
                Socks5.connect(Channels.newInputStream(ch), Channels.newOutputStream(ch), to.getHostString(), to.getPort(),
                        socks.toString());
            }
            return new TcpChannel(configure(ch));
        } catch (IOException e) {
            ch.close();
            throw e;
        }
    }

    /** The host and port of an endpoint address "host:port" (unresolved). */
    static InetSocketAddress address(Endpoint endpoint) throws IOException {
        try {
            return Socks5.parse(endpoint.address());
        } catch (IllegalArgumentException e) {
            throw new IOException("bad endpoint " + endpoint + ": " + e.getMessage());
        }
    }

    private static SocketChannel configure(SocketChannel ch) throws IOException {
        ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        ch.setOption(StandardSocketOptions.SO_SNDBUF, SOCKET_BUFFER);
        ch.setOption(StandardSocketOptions.SO_RCVBUF, SOCKET_BUFFER);
        return ch;
    }

    private static final class TcpChannel implements FrameChannel {
        private final SocketChannel ch;
        private final String name;

        TcpChannel(SocketChannel ch) throws IOException {
            this.ch = ch;
            this.name = "tcp " + ch.getLocalAddress() + "->" + ch.getRemoteAddress();
        }

        @Override
        public void write(ByteBuffer[] buffers) throws IOException {
            int last = buffers.length - 1;
            while (buffers[last].hasRemaining() || remaining(buffers) > 0) {
                ch.write(buffers);
            }
        }

        private static long remaining(ByteBuffer[] bs) {
            long n = 0;
            for (ByteBuffer b : bs) {
                n += b.remaining();
            }
            return n;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return ch.read(dst);
        }

        @Override
        public void close() {
            try {
                ch.close();
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
