/**
 * Ferry's QEMU/KVM driver: guests as QEMU processes driven over QMP, selected per host through
 * engine-core's {@code HypervisorDriver} SPI.
 *
 * <p>Tunnelled live migration, the data path:
 * <pre>
 *  source host                                               target host
 *  QEMU --migrate unix:--> Tunnel.Sender ==TcpTransport==> Tunnel.Receiver --unix--> QEMU -incoming defer -S
 *                          (LZ4 chunks, CRC32C,    <== ACK (1 MiB window) ==   (token, bounds, CRC,
 *                           rate limit)                                          LZ4 size checked)
 * </pre>
 * Control path, libvirt v3: begin (source) -> prepare (target QEMU paused, listener) -> perform (QMP
 * migrate; MIGRATION events) -> finish (target completed -> cont) -> confirm (source quit). Any failure
 * before finish: target destroyed, source resumed. Direct mode replaces the tunnel with QEMU's own TCP
 * (and multifd) connection on 127.0.0.1. The source drives the target half only through
 * {@link io.ferryvm.migration.HypervisorMigration.Target} (offer, post-copy started, finish, abort): {@code QemuIncoming}
 * on the target host's driver, in the same process or, behind a proxy on the hosts' control channel, in
 * another one.
 */
package io.ferryvm.qemu;
