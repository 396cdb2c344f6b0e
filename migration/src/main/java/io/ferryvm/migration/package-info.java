/**
 * Live migration of a running VM between two hosts: the protocol, pre-copy and post-copy, page codecs
 * and channels. Plain Java; the cluster module drives the phases from actors and carries the frames.
 *
 * <p>Public surface: {@link io.ferryvm.migration.MigrationService} (one per host), the phase objects
 * {@link io.ferryvm.migration.MigrationSource} and {@link io.ferryvm.migration.MigrationTarget}, the
 * values {@link io.ferryvm.migration.MigrationRequest}, {@link io.ferryvm.migration.MigrationOffer},
 * {@link io.ferryvm.migration.MigrationTicket}, {@link io.ferryvm.migration.MigrationReport},
 * {@link io.ferryvm.migration.MigrationEvent}, the error {@link io.ferryvm.migration.MigrationFailure}, the
 * channel SPI {@link io.ferryvm.migration.FrameChannel}/{@link io.ferryvm.migration.Transport}, the
 * {@link io.ferryvm.migration.MigrationJournal} and {@link io.ferryvm.migration.Failpoints}.
 *
 * <h2>Phases (libvirt v3) and who calls what</h2>
 * <pre>
 *  control plane            source host                         target host
 *  -------------            -----------                         -----------
 *  begin(vm, request) ----> checks; VM MIGRATING, still runs
 *                           journal BEGUN         -- offer -->
 *  prepare(offer) ------------------------------------------->  place + map memory (each chunk backed
 *                                                               when its first data arrives), listen,
 *                                                               token; journal PREPARED (written while
 *                                                               the source connects; durable before
 *                                                               the first connection is accepted)
 *                                           <-- ticket (endpoint, token) --
 *  perform(ticket) -------> journal PERFORMING
 *                           N channels:  HELLO(version, id, token, i/N) ==>  check; ACK(hello)
 *                           pre-copy:    RAM* SYNC(k) on every channel  ==>  install; re-hash chunks
 *                                         &lt;== ACK(sync k) on every channel (v3: the iteration's time
 *                                             and rate are measured up to here)
 *                             ... until expected downtime &lt;= limit (or throttle, force, post-copy)
 *                           pause guest (journal SWITCHED_OVER written meanwhile, durable before DONE);
 *                           RAM* SYNC(final) ; STATE ; DIGEST* ==>
 *                                                          &lt;== ACK(ready) on channel 0
 *                           DONE on every channel          ==>
 *  finish() ------------------------------------------------->  compare digests; journal FINISHED;
 *                                                               resume guest
 *  confirm(finished) -----> journal CONFIRMED; release VM
 *
 *  on failure before finish: target abort (journal ABORTED, memory freed), source abort (guest resumes
 *  as it was, journal ABORTED). Post-copy instead of the final copy:
 *                           journal POSTCOPY (durable); pause;
 *                           DIRTY_MAP* ; STATE ; POSTCOPY   ==>  guest starts with the missing
 *                                                          &lt;== ACK(postcopy running)    pages marked
 *                           RAM* (requested pages first)    ==>  &lt;== PAGE_REQUEST(page) from faults
 *                           SYNC(final)                     ==>  &lt;== ACK(ready) once nothing is missing
 *  from POSTCOPY on, losing either side loses the guest (journal GUEST_LOST): refused unless the
 *  request says NonConvergence.POST_COPY. A source failing after its POSTCOPY entry but before the
 *  POSTCOPY frame went out journals ABORTED durably, then resumes.
 * </pre>
 *
 * <h2>Frames</h2>
 * Every frame: magic "FRMG", command, flags (0), channel, sequence, length, CRC32C over header and
 * payload (see {@code Wire}). Commands have fixed codes, 0 reserved: HELLO 1, ACK 2, RAM 3, SYNC 4,
 * STATE 5, DIGEST 6, DIRTY_MAP 7, POSTCOPY 8, PAGE_REQUEST 9, ABORT 10, DONE 11. The begin/prepare/
 * finish/confirm messages are records carried by the control plane, not frames. The protocol version
 * travels in HELLO; a target reads the current version (4) and the two before it (3: xxHash64 instead of
 * CRC32C for the per-MiB digests; 2: that, no ACK(sync), and POSTCOPY journaled by the target before its
 * guest runs); v1 (no XOR-delta) is refused.
 * RAM frames batch up to 256 pages of one codec: ZERO 1 (no payload), RAW 2, LZ4 3, XOR_LZ4 4; pages
 * ascend within a batch and belong to the frame's channel (1 MiB chunks are dealt round-robin).
 *
 * <h2>Receiver states (one per channel, target side)</h2>
 * <pre>
 *   AWAIT_HELLO --HELLO ok--> RECEIVING --SYNC(final)--> FINAL --DONE--> CLOSED
 *       |  any other frame, bad token/version/index: ABORT, drop this connection only
 *   RECEIVING: RAM (decode all, then install) | SYNC(k) (count must match) | STATE, DIGEST, DIRTY_MAP,
 *              POSTCOPY (channel 0 only) | ABORT -> FAILED
 *   any decoder failure (magic, CRC, length bound, sequence, codec, page range) -> FAILED:
 *   the whole migration is aborted on the target and the source resumes; nothing of that frame is installed
 *   READY (target-wide) = every channel FINAL and (STATE + all DIGEST | no page missing in post-copy)
 * </pre>
 */
package io.ferryvm.migration;
