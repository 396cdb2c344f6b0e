package io.ferryvm.migration;

import io.ferryvm.core.CoreException;
import io.ferryvm.core.Host;
import io.ferryvm.core.Ticker;
import io.ferryvm.core.Vm;
import io.ferryvm.core.machine.DirtyBitmap;
import io.ferryvm.core.machine.GuestMemory;
import io.ferryvm.core.machine.MachineState;
import io.ferryvm.core.machine.MissingPages;
import io.ferryvm.core.state.StateCodec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receiving side of one migration, from prepare to finish (or abort).
 *
 * <p>Implementation notes. Prepare reserves the VM on this host (placement; memory mapped but not yet
 * backed: a chunk is populated in one call when its first non-zero page arrives, and zero pages over
 * never-written memory cost no write), draws a 128-bit one-time token and listens. Every accepted connection gets a receiver thread whose first frame
 * must be a HELLO naming this migration, the token, a protocol version in the window and an unused
 * channel index; anything else is answered with ABORT and that connection is dropped. A RAM frame is
 * decoded completely into a staging buffer (pages checked: in range, on this channel, strictly ascending;
 * codecs allowed by the version) before any page is installed, so a bad frame installs nothing (frames
 * are views of the receive buffer, CRC-checked before they are handed out; the buffer is not refilled
 * until the frame is installed). A
 * SYNC must count exactly the pages received since the last one. READY goes back on channel 0 once every
 * channel has had its final SYNC and the state and all digests arrived (pre-copy), or every missing page
 * is in (post-copy). {@link #finish} then compares digests and resumes; nothing runs here before it,
 * except in post-copy, where the guest runs as soon as POSTCOPY arrives and a failure loses it.
 */
public final class MigrationTarget {
    private static final Logger LOG = LoggerFactory.getLogger(MigrationTarget.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int MAX_STRAY_CONNECTIONS = 16;
    /** Ends prepared targets whose source never opened its channels (one shared daemon thread). */
    private static final java.util.concurrent.ScheduledExecutorService WATCHDOG =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "ferry-target-watchdog");
                t.setDaemon(true);
                return t;
            });
    /** Per receiver: holds several whole frames of the largest kind, so frames are decoded in place. */
    private static final int RECEIVE_BUFFER = 8 << 20;

    /** What finish reports back to the source's confirm. */
    public record Finished(UUID migrationId, boolean digestVerified, Duration targetDowntime, Duration activation,
            Duration postCopy, long postCopyFaults) {}

    private final MigrationService service;
    private final Host host;
    private final MigrationOffer offer;
    private final Vm vm;
    private final GuestMemory memory;
    private final byte[] token;
    private final Transport.Listener listener;
    private final ChunkLedger ledger;
    private final JournalTail journals;
    private CompletableFuture<Void> preparedJournal;
    private final int channels;
    private final Ticker ticker;
    private final Failpoints failpoints;
    private final CountDownLatch aborted = new CountDownLatch(1);
    private final CompletableFuture<Void> ready = new CompletableFuture<>();
    private final CompletableFuture<Void> watchdogRan = new CompletableFuture<>();
    private final FrameWriter[] writers;
    private final List<FrameChannel> open = new CopyOnWriteArrayList<>();
    private final AtomicInteger receiversRunning = new AtomicInteger();
    private final long[] sourceDigests;
    private final boolean[] digestSeen;
    private int digestsFilled;
    private long[] missingWords;
    private int missingWordsFilled;
    private MachineState state;
    private int finalSyncs;
    /** Per channel, the iteration of the last SYNC its receiver processed (guarded by this; notifyAll on change). */
    private final long[] syncedIteration;
    private volatile MissingPages missing;
    private volatile MigrationFailure failure;
    private volatile MigrationPhase phase;
    private volatile boolean finished;
    private volatile boolean released;
    private final Object endLock = new Object();
    private long finalPhaseStart = Long.MAX_VALUE;
    private long postCopyArrived;
    private long postCopyStart;
    private long postCopyEnd;

    private MigrationTarget(MigrationService service, MigrationOffer offer, Vm vm, Transport.Listener listener) {
        this.service = service;
        this.host = service.host();
        this.offer = offer;
        this.vm = vm;
        this.memory = vm.incomingMemory().retain();
        this.listener = listener;
        this.ledger = new ChunkLedger(memory, offer.protocolVersion());
        this.journals = new JournalTail(service.journal());
        this.channels = offer.request().channels();
        this.ticker = service.ticker();
        this.failpoints = service.failpoints();
        this.token = new byte[16];
        RANDOM.nextBytes(token);
        this.writers = new FrameWriter[channels];
        this.sourceDigests = new long[ledger.chunks()];
        this.digestSeen = new boolean[ledger.chunks()];
        this.syncedIteration = new long[channels];
    }

    static MigrationTarget prepare(MigrationService service, MigrationOffer offer) {
        Host host = service.host();
        try {
            Wire.PROTOCOL.checkReadable(offer.protocolVersion(), "offer of migration " + offer.migrationId());
        } catch (CoreException e) {
            throw new MigrationException(new MigrationFailure.Rejected("prepare", e.getMessage()));
        }
        CountDownLatch none = new CountDownLatch(0);
        service.failpoints().hit("target.prepare", none);
        Vm vm;
        try {
            vm = host.prepareIncoming(offer.spec());
        } catch (CoreException e) {
            throw new MigrationException(new MigrationFailure.Rejected("prepare", "host " + host.name() + ": " + e.getMessage()));
        }
        // QEMU's -mem-prealloc: back everything before the source sends, so no receiver waits for a page
        // fault. False where the platform cannot (the chunks are then backed as their data arrives).
        boolean preallocated = offer.request().preallocate() && preallocate(vm);
        Transport.Listener l;
        try {
            l = service.transport().listen("ferry-" + offer.migrationId());
        } catch (IOException e) {
            vm.abortMigrationIn();
            throw new MigrationException(new MigrationFailure.HostError(host.name(), "cannot listen: " + e.getMessage()));
        }
        MigrationTarget t = new MigrationTarget(service, offer, vm, l);
        if (preallocated) {
            t.ledger.markAllPopulated();
        }
        // Written while the source connects: the acceptor takes no connection before it is durable. A
        // crash before that leaves no entry here, which decides like PREPARED (the guest is on the source).
        t.preparedJournal = t.journals.start(t.entry(MigrationPhase.PREPARED, "listening on " + l.endpoint()));
        t.phase = MigrationPhase.PREPARED;
        Thread acceptor = new Thread(t::acceptLoop, "ferry-accept-" + offer.migrationId());
        acceptor.setDaemon(true);
        acceptor.start();
        Duration bound = offer.request().timeout();
        WATCHDOG.schedule(t::giveUpUnlessConnected, bound.toMillis(), TimeUnit.MILLISECONDS);
        return t;
    }

    private static boolean preallocate(Vm vm) {
        GuestMemory m = vm.incomingMemory();
        return m.populate(0, m.pageCount());
    }

    public MigrationTicket ticket() {
        return new MigrationTicket(offer.migrationId(), HexFormat.of().formatHex(token), listener.endpoint(), host.name());
    }

    public MigrationPhase phase() {
        return phase;
    }

    /** The failure that ended this side, or null. */
    public MigrationFailure failure() {
        return failure;
    }

    public Vm vm() {
        return vm;
    }

    // ---- finish ----

    /**
     * Waits until the whole stream arrived, compares every MiB of memory with the source's digests and
     * resumes the guest here. Journaled FINISHED before the guest runs: from then on the source must
     * never resume. On failure the target is cleaned up and the exception says why.
     */
    public Finished finish() {
        long start = ticker.nanos();
        try {
            awaitReady();
            failpoints.hit("target.finish", aborted);
            boolean postCopy = missing != null;
            if (!postCopy) {
                verifyDigests();
            }
            failpoints.hit("target.activate", aborted);
            synchronized (this) {
                if (failure != null) {
                    throw new MigrationException(failure);
                }
                finished = true; // abort() leaves the outcome to this method from here on
            }
            // FINISHED and the VM's definition are both durable before the guest runs here. They are written
            // side by side: completeMigrationIn persists the definition, then waits in beforeRun for FINISHED
            // (every later entry, ABORTED after a failure below included, lands after it).
            CompletableFuture<Void> durable = journals.start(entry(MigrationPhase.FINISHED, postCopy ? "post-copy complete" : "digest verified"));
            try {
                if (postCopy) {
                    vm.machine().leavePostCopy();
                }
                vm.completeMigrationIn(state, false, () -> JournalTail.await(durable));
                phase = MigrationPhase.FINISHED;
            } catch (CoreException e) {
                // Not running here after all: record it, so the source may resume.
                finished = false;
                throw new MigrationException(new MigrationFailure.HostError(host.name(), "resume failed: " + e.getMessage()), e);
            }
            long resumed = ticker.nanos();
            closeAll();
            releaseMemory();
            long fromFinal = finalPhaseStart == Long.MAX_VALUE ? start : Math.min(finalPhaseStart, start);
            return new Finished(offer.migrationId(), !postCopy,
                    Duration.ofNanos(postCopy ? postCopyStart - postCopyArrived : resumed - fromFinal),
                    Duration.ofNanos(resumed - start), Duration.ofNanos(postCopy ? postCopyEnd - postCopyStart : 0),
                    postCopy ? missing.faultCount() : 0);
        } catch (MigrationException e) {
            end(e.failure());
            throw e;
        }
    }

    private void awaitReady() {
        try {
            ready.get(offer.request().timeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new MigrationException(new MigrationFailure.TimedOut("receiving the stream on " + host.name(), offer.request().timeout()));
        } catch (ExecutionException e) {
            throw (MigrationException) e.getCause();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MigrationException(new MigrationFailure.Cancelled("interrupted while waiting for the stream"));
        }
    }

    private void verifyDigests() {
        int bad = 0;
        List<Integer> first = new ArrayList<>();
        for (int c = 0; c < sourceDigests.length; c++) {
            if (sourceDigests[c] != ledger.hash(c)) {
                bad++;
                if (first.size() < 10) {
                    first.add(c);
                }
            }
        }
        if (bad > 0) {
            throw new MigrationException(new MigrationFailure.DigestMismatch(bad, first));
        }
        long a = ChunkLedger.combine(sourceDigests, memory.size());
        long b = ChunkLedger.combine(ledger.hashes(), memory.size());
        if (a != b) {
            throw new MigrationException(new MigrationFailure.DigestMismatch(0, List.of()));
        }
    }

    /**
     * A source that prepared this target and then vanished before connecting (its prepare reply lost, its
     * node crashed, its abort lost) would otherwise leave the reservation, the memory and the listener here
     * for good: nothing else ever ends a target no channel reached. Bounded by the request's timeout, the
     * same bound each side puts on every wait for its peer.
     */
    private void giveUpUnlessConnected() {
        try {
            synchronized (this) {
                boolean allConnected = java.util.Arrays.stream(writers).allMatch(java.util.Objects::nonNull);
                if (allConnected || finished || released) {
                    return;
                }
            }
            end(new MigrationFailure.TimedOut("waiting for the source's channels on " + host.name(), offer.request().timeout()));
        } finally {
            watchdogRan.complete(null);
        }
    }

    /** Tests: completes once the connect watchdog has looked at this target. */
    CompletableFuture<Void> watchdogRan() {
        return watchdogRan;
    }

    // ---- abort ----

    /**
     * Abandons the incoming migration: tells the source (best effort), frees everything received and
     * forgets the VM. Returns false, changing nothing, if finish already resumed the guest here.
     */
    public boolean abort(MigrationFailure why) {
        if (finished) {
            return false;
        }
        end(why);
        return !finished;
    }

    /** Whoever ends first does the cleanup; a second caller waits until it is done. */
    private void end(MigrationFailure why) {
        synchronized (endLock) {
            endOnce(why);
        }
    }

    private void endOnce(MigrationFailure why) {
        boolean crash = Failpoints.isCrash(why);
        synchronized (this) {
            if (finished || released) {
                return;
            }
            if (failure == null) {
                failure = why;
            }
            released = true;
            notifyAll(); // a POSTCOPY waiting for the other channels' pre-copy (awaitPreCopyInstalled) gives up
        }
        aborted.countDown();
        ready.completeExceptionally(new MigrationException(why));
        boolean lost = missing != null;
        boolean discarded = false;
        if (lost) {
            missing.fail(why.describe());
            // The guest already runs here, and the source may not know it (ACK(postcopy running) unsent or
            // unread): it resumes its own copy on ABORT. Stop this copy before saying so, or both run at once.
            discarded = discard();
        }
        if (!crash) {
            sendAbort(why.describe());
            try {
                // A copy stopped here before ABORT leaves the verdict to the source's entry: ABORTED there (it
                // resumed on our ABORT) means the guest is on the source, GUEST_LOST or POSTCOPY means lost.
                journal(lost && !discarded ? MigrationPhase.GUEST_LOST : MigrationPhase.ABORTED,
                        (lost ? "post-copy copy stopped here before ABORT: " : "") + why.describe());
            } catch (CoreException e) {
                LOG.error("migration {}: abort could not be journaled: {}", offer.migrationId(), e.getMessage());
            }
        }
        phase = lost ? MigrationPhase.GUEST_LOST : MigrationPhase.ABORTED;
        closeAll();
        releaseMemory();
        if (!discarded) {
            discard();
        }
        LOG.info("migration {} of {} aborted on target {}: {}", offer.migrationId(), offer.spec().name(), host.name(), why.describe());
    }

    /** Stops and forgets the incoming VM; true once it is gone. */
    private boolean discard() {
        try {
            vm.abortMigrationIn();
            return true;
        } catch (CoreException e) {
            LOG.error("migration {}: the incoming VM could not be discarded: {}", offer.migrationId(), e.getMessage());
            return false;
        }
    }

    private void sendAbort(String reason) {
        byte[] r = reason.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(r.length, Wire.MAX_ABORT_BYTES);
        for (FrameWriter w : writers) {
            if (w != null) {
                try {
                    ByteBuffer b = ByteBuffer.allocate(2 + n);
                    b.putShort((short) n).put(r, 0, n).flip();
                    w.write(Command.ABORT, b);
                } catch (IOException | RuntimeException ignored) {
                    // the channel is already gone: the source notices that by itself
                }
            }
        }
    }

    private void closeAll() {
        listener.close();
        for (FrameChannel c : open) {
            c.close();
        }
    }

    private synchronized void releaseMemory() {
        if (memory != null && !memoryReleased) {
            memoryReleased = true;
            memory.release();
        }
    }

    private boolean memoryReleased;

    private MigrationJournal.Entry entry(MigrationPhase p, String detail) {
        return new MigrationJournal.Entry(offer.migrationId(), offer.spec().id(), offer.spec().name(), MigrationJournal.Role.TARGET, p,
                offer.sourceHost(), System.currentTimeMillis(), detail);
    }

    /** Durable before it returns, after every entry started before it. */
    private void journal(MigrationPhase p, String detail) {
        journals.write(entry(p, detail));
    }

    // ---- receiving ----

    private void acceptLoop() {
        try {
            JournalTail.await(preparedJournal);
        } catch (CoreException e) {
            end(new MigrationFailure.HostError(host.name(), "journal: " + e.getMessage()));
            return;
        }
        int accepted = 0;
        while (aborted.getCount() > 0 && accepted < channels + MAX_STRAY_CONNECTIONS) {
            FrameChannel ch;
            try {
                ch = listener.accept();
            } catch (IOException e) {
                return; // closed: finished or aborted
            }
            accepted++;
            open.add(ch);
            if (aborted.getCount() == 0) {
                ch.close();
                return;
            }
            receiversRunning.incrementAndGet();
            Thread t = new Thread(() -> receive(ch), "ferry-recv-" + offer.migrationId() + "-" + accepted);
            t.setDaemon(true);
            t.start();
        }
    }

    /**
     * Receive buffers kept between migrations: a fresh 8 MiB direct buffer is zeroed by the JVM and then
     * faulted in page by page, ~30 ms of CPU per channel per migration where the host's free memory is
     * cold. At most four are kept (32 MiB).
     */
    private static final java.util.concurrent.BlockingQueue<ByteBuffer> RECEIVE_BUFFERS = new java.util.concurrent.ArrayBlockingQueue<>(4);

    private static ByteBuffer takeReceiveBuffer() {
        ByteBuffer b = RECEIVE_BUFFERS.poll();
        return b != null ? b.clear() : ByteBuffer.allocateDirect(RECEIVE_BUFFER);
    }

    private static void giveReceiveBuffer(ByteBuffer b) {
        RECEIVE_BUFFERS.offer(b); // full: the buffer goes with the receiver
    }

    private void receive(FrameChannel ch) {
        Receiver r = new Receiver(ch);
        try {
            r.run();
        } catch (MigrationException e) {
            if (!r.authenticated) {
                refuse(ch, e.failure(), Math.max(0, r.decoder.channel()));
            } else {
                end(e.failure());
            }
        } catch (IOException e) {
            if (r.authenticated && !ready.isDone()) {
                end(new MigrationFailure.PeerLost("source", ch.name() + ": " + e.getMessage()));
            }
        } catch (CoreException e) {
            end(new MigrationFailure.HostError(host.name(), e.getMessage()));
        } catch (RuntimeException e) {
            LOG.error("migration {}: receiver failed", offer.migrationId(), e);
            end(new MigrationFailure.HostError(host.name(), "receiver: " + e));
        } finally {
            giveReceiveBuffer(r.in); // frames are consumed before the receiver returns: nothing refers to it now
            if (r.retained) {
                memory.release();
            }
            receiversRunning.decrementAndGet();
        }
    }

    /** A connection that never authenticated: answer ABORT on it and drop it; the migration goes on. */
    private void refuse(FrameChannel ch, MigrationFailure why, int index) {
        LOG.warn("migration {}: refused a connection on {}: {}", offer.migrationId(), ch.name(), why.describe());
        try {
            byte[] r = why.describe().getBytes(StandardCharsets.UTF_8);
            int n = Math.min(r.length, Wire.MAX_ABORT_BYTES);
            ByteBuffer b = ByteBuffer.allocate(2 + n);
            b.putShort((short) n).put(r, 0, n).flip();
            new FrameWriter(ch, index, null, null).write(Command.ABORT, b);
        } catch (IOException | RuntimeException ignored) {
            // it is dropped either way
        }
        ch.close();
    }

    /** One channel's receiver: its decoder, staging buffer and per-iteration count. */
    private final class Receiver {
        private final FrameChannel ch;
        private final FrameDecoder decoder = new FrameDecoder(-1, true).inPlace();
        /** Direct (the socket reads into it without a bounce copy) and large enough for several whole frames. */
        private final ByteBuffer in = takeReceiveBuffer();
        private final RamBatch batch = new RamBatch();
        private int index = -1;
        private int version;
        private boolean authenticated;
        private boolean retained;
        private boolean finalSeen;
        private long counted;
        private long lastIteration;
        private long firstFrameAfterSync = -1;
        /** The chunk the last RAM frame ended in (this iteration), hashed once a later chunk begins; -1: none. */
        private int openChunk = -1;

        Receiver(FrameChannel ch) {
            this.ch = ch;
            in.flip();
        }

        void run() throws IOException {
            while (true) {
                Frame f = decoder.next(in);
                if (f == null) {
                    int n = readMore();
                    if (n < 0) {
                        if (authenticated && !ready.isDone() && aborted.getCount() > 0) {
                            throw new MigrationException(new MigrationFailure.PeerLost("source", "channel " + index + " closed"));
                        }
                        return;
                    }
                    continue;
                }
                if (!authenticated) {
                    hello(f);
                    continue;
                }
                if (handle(f)) {
                    return;
                }
            }
        }

        private int readMore() throws IOException {
            return FrameDecoder.readBehind(in, ch);
        }

        private MigrationException corrupt(Frame f, String detail) {
            return MigrationException.corrupt(f.channel(), f.sequence(), detail);
        }

        private void hello(Frame f) throws IOException {
            if (f.command() != Command.HELLO || f.length() != Wire.HELLO_BYTES) {
                throw corrupt(f, "expected HELLO first, got " + f.command());
            }
            ByteBuffer p = f.payload();
            int v = p.getShort() & 0xFFFF;
            UUID id = new UUID(p.getLong(), p.getLong());
            byte[] tok = new byte[16];
            p.get(tok);
            int ci = p.getShort() & 0xFFFF;
            int cn = p.getShort() & 0xFFFF;
            long size = p.getLong();
            int pageSize = p.getInt();
            try {
                Wire.PROTOCOL.checkReadable(v, "HELLO on " + ch.name());
            } catch (CoreException e) {
                throw new MigrationException(new MigrationFailure.Rejected("hello", e.getMessage()));
            }
            if (!id.equals(offer.migrationId()) || !MessageDigest.isEqual(tok, token)) {
                throw new MigrationException(new MigrationFailure.Rejected("hello", "wrong migration id or token on " + ch.name()));
            }
            if (v != offer.protocolVersion() || cn != channels || ci >= channels || ci != f.channel()
                    || size != memory.size() || pageSize != Wire.PAGE) {
                throw new MigrationException(new MigrationFailure.Rejected("hello", "HELLO on " + ch.name() + " does not match the offer (v"
                        + v + ", channel " + ci + "/" + cn + ", " + size + " bytes)"));
            }
            failpoints.hit("target.hello", aborted);
            FrameWriter w = new FrameWriter(ch, ci, null, null);
            synchronized (MigrationTarget.this) {
                if (writers[ci] != null) {
                    throw new MigrationException(new MigrationFailure.Rejected("hello", "channel " + ci + " opened twice"));
                }
                writers[ci] = w;
                if (ci == 0 && phase == MigrationPhase.PREPARED) {
                    phase = MigrationPhase.PERFORMING;
                }
            }
            memory.retain(); // released when this receiver ends
            retained = true;
            index = ci;
            version = v;
            authenticated = true;
            ack(w, Wire.ACK_HELLO, 0);
        }

        /** Returns true at the end of this channel's stream. */
        private boolean handle(Frame f) throws IOException {
            try {
                return dispatch(f);
            } catch (java.nio.BufferUnderflowException e) {
                throw corrupt(f, f.command() + " payload too short");
            }
        }

        private boolean dispatch(Frame f) throws IOException {
            if (firstFrameAfterSync < 0) {
                firstFrameAfterSync = ticker.nanos();
            }
            switch (f.command()) {
                case RAM:
                    ram(f);
                    return false;
                case SYNC:
                    sync(f);
                    return false;
                case STATE:
                    onlyChannel0(f);
                    state(f);
                    return false;
                case DIGEST:
                    onlyChannel0(f);
                    digest(f);
                    return false;
                case DIRTY_MAP:
                    onlyChannel0(f);
                    dirtyMap(f);
                    return false;
                case POSTCOPY:
                    onlyChannel0(f);
                    postCopy(f);
                    return false;
                case ABORT:
                    throw new MigrationException(new MigrationFailure.PeerLost("source", "aborted: " + abortReason(f.payload())));
                case DONE:
                    if (!ready.isDone()) {
                        throw corrupt(f, "DONE before the stream was complete");
                    }
                    return true;
                default:
                    throw corrupt(f, "unexpected " + f.command());
            }
        }

        private void onlyChannel0(Frame f) {
            if (index != 0) {
                throw corrupt(f, f.command() + " is only valid on channel 0");
            }
        }

        private void ram(Frame f) {
            if (finalSeen) {
                throw corrupt(f, "RAM after the final SYNC");
            }
            MissingPages mp = missing;
            try {
                batch.decode(f.payload(), version, memory, index, channels, mp != null);
            } catch (IllegalArgumentException | java.nio.BufferUnderflowException e) {
                throw corrupt(f, String.valueOf(e.getMessage()));
            }
            // Everything decoded and checked: now install. A zero page over a page that never held data needs
            // no write (fresh memory is zero); the first page with data in a chunk backs the chunk in one call.
            int n = batch.count();
            for (int i = 0; i < n; i++) {
                long page = batch.page(i);
                boolean zero = batch.isZero(i);
                if (mp != null) {
                    if (!mp.isPresent(page)) { // a present page belongs to the running guest: never overwrite it
                        install(i, page, zero);
                        mp.markPresent(page);
                    }
                } else {
                    install(i, page, zero);
                }
            }
            counted += n;
            if (mp == null) {
                // The source sends each chunk's frames before the next chunk's: once a later chunk begins, the
                // chunk before is complete for this iteration, and its bytes were just written (in cache).
                int first = (int) (batch.page(0) / Wire.CHUNK_PAGES);
                if (openChunk >= 0 && first != openChunk) {
                    ledger.refreshChunk(openChunk);
                }
                openChunk = (int) (batch.page(n - 1) / Wire.CHUNK_PAGES);
            }
        }

        private void install(int i, long page, boolean zero) {
            if (ledger.installed(page, zero)) {
                if (!zero) {
                    ledger.populateFor(page);
                }
                batch.write(i, memory);
            }
        }

        private void sync(Frame f) throws IOException {
            if (f.length() != Wire.SYNC_BYTES) {
                throw corrupt(f, "SYNC of " + f.length() + " bytes");
            }
            ByteBuffer p = f.payload();
            long iteration = p.getInt() & 0xFFFFFFFFL;
            int fin = p.get();
            long pagesSent = p.getLong();
            if (finalSeen) {
                throw corrupt(f, "SYNC after the final SYNC");
            }
            if (iteration <= lastIteration || (fin != 0 && fin != 1)) {
                throw corrupt(f, "SYNC for iteration " + iteration + " (final " + fin + ") after " + lastIteration);
            }
            if (pagesSent != counted) {
                throw corrupt(f, "SYNC counts " + pagesSent + " pages, " + counted + " arrived");
            }
            failpoints.hit("target.sync", (int) iteration, aborted);
            lastIteration = iteration;
            synchronized (MigrationTarget.this) {
                syncedIteration[index] = iteration;
                MigrationTarget.this.notifyAll();
            }
            counted = 0;
            openChunk = -1;
            if (missing == null) {
                ledger.refreshStale(index, channels);
                if (fin == 0 && version >= 3) {
                    ack(writers[index], Wire.ACK_SYNC, iteration); // installed and hashed: the source times its iteration by this
                }
            }
            long firstAfter = firstFrameAfterSync;
            firstFrameAfterSync = -1;
            if (fin == 1) {
                finalSeen = true;
                synchronized (MigrationTarget.this) {
                    finalSyncs++;
                    if (missing == null) {
                        finalPhaseStart = Math.min(finalPhaseStart, firstAfter);
                    }
                }
                checkReady();
            }
        }

        private void state(Frame f) {
            byte[] b = new byte[f.length()];
            f.payload().get(b);
            MachineState s;
            try {
                s = StateCodec.decode(b, "state of migration " + offer.migrationId());
            } catch (CoreException e) {
                throw corrupt(f, e.getMessage());
            }
            if (s.vcpuCount() != offer.spec().vcpus()) {
                throw corrupt(f, "state for " + s.vcpuCount() + " vCPUs, the VM has " + offer.spec().vcpus());
            }
            synchronized (MigrationTarget.this) {
                if (state != null) {
                    throw corrupt(f, "second STATE");
                }
                state = s;
            }
            checkReady();
        }

        private void digest(Frame f) {
            ByteBuffer p = f.payload();
            long first = p.getInt() & 0xFFFFFFFFL;
            long n = p.getInt() & 0xFFFFFFFFL;
            if (n < 1 || first + n > sourceDigests.length || p.remaining() != n * 8) {
                throw corrupt(f, "DIGEST of chunks [" + first + ", +" + n + ") for " + sourceDigests.length + " chunks");
            }
            synchronized (MigrationTarget.this) {
                for (int i = 0; i < n; i++) {
                    int c = (int) (first + i);
                    if (digestSeen[c]) {
                        throw corrupt(f, "second digest for chunk " + c);
                    }
                    digestSeen[c] = true;
                    sourceDigests[c] = p.getLong();
                    digestsFilled++;
                }
            }
            checkReady();
        }

        private void dirtyMap(Frame f) {
            ByteBuffer p = f.payload();
            long first = p.getInt() & 0xFFFFFFFFL;
            long n = p.getInt() & 0xFFFFFFFFL;
            int words = (int) ((memory.pageCount() + 63) >>> 6);
            if (n < 1 || first + n > words || p.remaining() != n * 8 || missing != null) {
                throw corrupt(f, "DIRTY_MAP of words [" + first + ", +" + n + ") for " + words + " words");
            }
            if (missingWords == null) {
                missingWords = new long[words];
            }
            for (int i = 0; i < n; i++) {
                long w = p.getLong();
                int at = (int) (first + i);
                if (at == words - 1 && (memory.pageCount() & 63) != 0 && (w >>> (memory.pageCount() & 63)) != 0) {
                    throw corrupt(f, "DIRTY_MAP marks pages beyond the guest");
                }
                missingWords[at] = w;
            }
            missingWordsFilled += (int) n;
        }

        private void postCopy(Frame f) throws IOException {
            postCopyArrived = ticker.nanos();
            int words = (int) ((memory.pageCount() + 63) >>> 6);
            if (state == null || missingWords == null || missingWordsFilled != words || missing != null) {
                throw corrupt(f, "POSTCOPY before the state and the whole dirty map");
            }
            awaitPreCopyInstalled(lastIteration);
            long[] present = new long[words];
            for (int w = 0; w < words; w++) {
                present[w] = ~missingWords[w];
            }
            if ((memory.pageCount() & 63) != 0) {
                present[words - 1] &= (1L << memory.pageCount()) - 1;
            }
            MissingPages mp = new MissingPages(memory.pageCount(), DirtyBitmap.ofWords(memory.pageCount(), present), this::request);
            synchronized (MigrationTarget.this) {
                if (failure != null) {
                    throw new MigrationException(failure);
                }
                MigrationJournal.Entry e = entry(MigrationPhase.POSTCOPY, mp.missingCount() + " pages still on the source");
                if (version >= 3) {
                    // A v3 source journaled POSTCOPY durably before it paused: that entry already makes the
                    // verdict LOST from the moment the guest may run here, so this one is written meanwhile.
                    journals.start(e);
                } else {
                    journals.write(e); // a v2 source did not: this entry must be durable before the guest runs
                }
                vm.startPostCopy(state, mp);
                postCopyStart = ticker.nanos();
                missing = mp;
                phase = MigrationPhase.POSTCOPY;
            }
            failpoints.hit("target.postcopy.running", aborted);
            ack(writers[0], Wire.ACK_POSTCOPY_RUNNING, mp.missingCount());
            checkReady();
        }

        /** Called on a faulting vCPU thread: ask the source for the page on channel 0's return path. */
        private void request(long page) {
            if (released) {
                return; // the stream is gone: MissingPages already failed, the waiting vCPU stops
            }
            try {
                ByteBuffer b = ByteBuffer.allocate(4);
                b.putInt((int) page).flip();
                writers[0].write(Command.PAGE_REQUEST, b);
            } catch (IOException e) {
                if (!released) {
                    end(new MigrationFailure.GuestLost("page request for " + page + " failed: " + e.getMessage()));
                }
            }
        }
    }

    /**
     * POSTCOPY arrives on channel 0 after channel 0's last pre-copy SYNC, but the other channels' last pre-copy
     * frames may still sit unread in their pipes: a v2 source does not wait for ACK(sync) before it harvests and
     * pauses. The guest must not start before they are installed. Once it runs, such a late frame would either
     * fill a page of the dirty map with its older copy and mark it present (the source's fresh copy is then
     * dropped: a stale page for good), or land over a page the running guest already wrote:
     *
     * <pre>
     *   source:     ch1 RAM(p, it n) SYNC(n) | ch0 SYNC(n) | pause, harvest: p dirty | DIRTY_MAP STATE POSTCOPY
     *   receiver 0:                            SYNC(n) DIRTY_MAP STATE POSTCOPY: guest runs, p missing
     *   receiver 1:  (behind) .................................. RAM(p, it n): p installed old, marked present
     *   receiver 1:  ........................................... RAM(p, post-copy): dropped, p already present
     * </pre>
     *
     * So wait until every channel processed the SYNC of the iteration channel 0 last synced. A v3 source got
     * ACK(sync) from every channel before it paused, so this returns at once.
     */
    private void awaitPreCopyInstalled(long iteration) {
        synchronized (this) {
            while (!allSynced(iteration)) {
                if (failure != null) {
                    throw new MigrationException(failure);
                }
                try {
                    wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new MigrationException(new MigrationFailure.Cancelled("interrupted while waiting for the pre-copy stream"));
                }
            }
        }
    }

    private boolean allSynced(long iteration) {
        for (long it : syncedIteration) {
            if (it < iteration) {
                return false;
            }
        }
        return true;
    }

    private void checkReady() {
        boolean go;
        synchronized (this) {
            if (ready.isDone() || finalSyncs < channels) {
                return;
            }
            if (missing != null) {
                if (missing.missingCount() != 0) {
                    throw MigrationException.corrupt(0, -1, "post-copy stream ended with " + missing.missingCount() + " pages missing");
                }
                postCopyEnd = ticker.nanos();
                go = true;
            } else {
                go = state != null && digestsFilled == sourceDigests.length;
            }
        }
        if (go) {
            failpoints.hit("target.ready", aborted);
            // Complete first: the source answers READY with DONE on every channel at once.
            ready.complete(null);
            try {
                ack(writers[0], Wire.ACK_READY, 0);
            } catch (IOException e) {
                throw new MigrationException(new MigrationFailure.PeerLost("source", "READY could not be sent: " + e.getMessage()));
            }
        }
    }

    private static void ack(FrameWriter w, int kind, long value) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(Wire.ACK_BYTES);
        b.put((byte) kind).putLong(value).flip();
        w.write(Command.ACK, b);
    }

    static String abortReason(ByteBuffer p) {
        if (p.remaining() < 2) {
            return "(no reason)";
        }
        int n = p.getShort() & 0xFFFF;
        if (n > p.remaining()) {
            return "(reason truncated)";
        }
        byte[] b = new byte[n];
        p.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }
}
