package io.ferryvm.migration;

import io.ferryvm.core.CoreException;
import io.ferryvm.core.Host;
import io.ferryvm.core.Ticker;
import io.ferryvm.core.Vm;
import io.ferryvm.core.VmStatus;
import io.ferryvm.core.machine.DirtyBitmap;
import io.ferryvm.core.machine.DirtyLog;
import io.ferryvm.core.machine.GuestMemory;
import io.ferryvm.core.machine.Machine;
import io.ferryvm.core.machine.MachineState;
import io.ferryvm.core.machine.GuestProgram;
import io.ferryvm.core.machine.VcpuState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sending side of one migration: begin, perform, then confirm or abort.
 *
 * <p>Implementation notes. Perform opens one channel per {@code channels} and presents the token on
 * each; a reader thread per channel takes the target's ACKs, page requests and ABORT. Pre-copy: the dirty
 * log starts with every page dirty; each iteration the channel senders (one thread each) send the
 * harvested pages of their own chunks and close the iteration with a SYNC, then the next harvest and
 * the {@link ConvergenceEstimator} decide: switch over, iterate again (raising the throttle under
 * auto-converge), or, at the iteration bound, fail, force, or go post-copy as requested. Switch-over
 * pauses the guest, sends the union of the last harvests, then state and per-MiB digests, and waits for
 * READY. Until confirm the source only ever pauses its guest, so any failure before finish resumes it
 * exactly as it was; only once the target runs the guest in post-copy does a failure lose it.
 *
 * <p>Failure handling: whoever notices first (a sender, a reader, cancel) records the failure and
 * starts a bounded abort: ABORT is offered to the target for at most a second, then every channel is
 * closed, which unblocks any write stuck on a dead peer; the perform thread then cleans up.
 */
public final class MigrationSource {
    private static final Logger LOG = LoggerFactory.getLogger(MigrationSource.class);
    private static final long ABORT_GRACE_MS = 1000;

    private final MigrationService service;
    private final Host host;
    private final Vm vm;
    private final Machine machine;
    private final MigrationRequest request;
    private final MigrationOffer offer;
    private final Ticker ticker;
    private final Failpoints failpoints;
    private final int channels;
    private final int version;
    private final boolean xorOk;
    private final CountDownLatch aborted = new CountDownLatch(1);
    private final CompletableFuture<Void> failed = new CompletableFuture<>();
    private final CompletableFuture<Void> ready = new CompletableFuture<>();
    private final CompletableFuture<Void> postCopyRunning = new CompletableFuture<>();
    private final LongAdder wireBytes = new LongAdder();
    private final ConvergenceEstimator estimator;
    private final JournalTail journals;
    private final List<Double> dirtyRates = new ArrayList<>();
    private final long tBegin;

    private volatile MigrationFailure failure;
    private final Object failLock = new Object();
    private volatile MigrationPhase phase = MigrationPhase.BEGUN;
    private volatile boolean doneSending;
    /** Set just before POSTCOPY goes out: from then on the target may run the guest, so this side never resumes it. */
    private volatile boolean postCopyStarted;
    /** The journal entry may say POSTCOPY (its write, before the pause for post-copy, was started). */
    private boolean postCopyJournaled;
    /** SWITCHED_OVER, written while the final pages go out (see {@link #pause}). */
    private CompletableFuture<Void> switchedOverJournal;
    /** BEGUN and PERFORMING, written while other work goes on; both durable before the guest pauses. */
    private CompletableFuture<Void> beganJournal;
    private CompletableFuture<Void> performingJournal;
    /** v3: the target's acknowledgements of the current pre-copy iteration's SYNCs. */
    private volatile IterationAcks acks;
    /**
     * POSTCOPY went out: from here the target may run the guest before this side hears of it. Ending without
     * ACK(postcopy running) then resumes here only if the target said ABORT (it stops its copy first); any other
     * end (cancel, timeout, a lost channel) cannot know and loses the guest rather than risk two copies.
     */
    private volatile boolean postCopySent;
    private volatile boolean targetAborted;
    private boolean performed;
    private boolean cleanedUp;
    private MigrationReport report;

    private FrameChannel[] chans;
    private FrameWriter[] writers;
    private Sender[] senders;
    private ExecutorService pool;
    private CompletableFuture<Void>[] helloAcks;
    private GuestMemory memory;
    private ChunkLedger ledger;
    private boolean logStarted;
    private String mode = "pre-copy";
    private int iterations;
    private int throttleMax;
    private long tFirstPage;
    private long tPause;
    private long tFinalSent;
    private long tReady;
    private long tRunning;
    private Thread aborter;

    private MigrationSource(MigrationService service, Vm vm, Machine machine, MigrationRequest request, int version, long tBegin,
            UUID migrationId) {
        this.service = service;
        this.host = service.host();
        this.vm = vm;
        this.machine = machine;
        this.request = request;
        this.version = version;
        this.ticker = service.ticker();
        this.failpoints = service.failpoints();
        this.channels = request.channels();
        this.xorOk = request.compression() == Compression.XOR_LZ4 && version >= 2;
        this.offer = new MigrationOffer(migrationId, vm.spec(), request, version, host.name());
        this.estimator = new ConvergenceEstimator(ticker, request.bandwidthBytesPerSecond());
        this.estimator.activationCost(service.lastActivationNanos());
        this.journals = new JournalTail(service.journal());
        this.tBegin = tBegin;
    }

    static MigrationSource begin(MigrationService service, UUID vmId, MigrationRequest request) {
        return begin(service, vmId, request, Wire.PROTOCOL.current(), UUID.randomUUID());
    }

    static MigrationSource begin(MigrationService service, UUID vmId, MigrationRequest request, int version) {
        return begin(service, vmId, request, version, UUID.randomUUID());
    }

    /** Begin speaking an older protocol version (a source one release behind; tests of the version window). */
    static MigrationSource begin(MigrationService service, UUID vmId, MigrationRequest request, int version, UUID migrationId) {
        long t0 = service.ticker().nanos();
        Host host = service.host();
        Vm vm;
        try {
            vm = host.vm(vmId);
        } catch (CoreException e) {
            throw new MigrationException(new MigrationFailure.Rejected("begin", e.getMessage()));
        }
        service.failpoints().hit("source.begin", new CountDownLatch(0));
        VmStatus s = vm.status();
        if (s != VmStatus.RUNNING && s != VmStatus.PAUSED) {
            throw new MigrationException(new MigrationFailure.Rejected("begin", "VM " + vm.spec().name() + " is "
                    + s.name().toLowerCase() + "; only a running or paused VM migrates"));
        }
        Machine m;
        try {
            m = vm.beginMigrationOut();
        } catch (CoreException e) {
            throw new MigrationException(new MigrationFailure.Rejected("begin", e.getMessage()));
        }
        MigrationSource src = new MigrationSource(service, vm, m, request, version, t0, migrationId);
        // Written while the target prepares; perform checks it landed. Until SWITCHED_OVER every entry of
        // this side decides the same way (the guest is here), so none of them has to be durable sooner.
        src.beganJournal = src.journals.start(src.entry(MigrationPhase.BEGUN, "to be prepared"));
        src.emit(MigrationPhase.BEGUN, 0, 0, 0, 0);
        return src;
    }

    public MigrationOffer offer() {
        return offer;
    }

    public MigrationPhase phase() {
        return phase;
    }

    public MigrationFailure failure() {
        return failure;
    }

    // ---- perform ----

    /**
     * Streams the guest to the prepared target: pre-copy iterations, then stop-and-copy of the rest with
     * state and digests (or post-copy, if requested and needed). Returns once the target holds
     * everything; the guest stays paused here until confirm or abort. On failure the guest resumes here
     * (before post-copy) and the exception says why.
     */
    public void perform(MigrationTicket ticket) {
        synchronized (this) {
            if (performed) {
                throw new IllegalStateException("migration " + offer.migrationId() + " was already performed");
            }
            performed = true;
        }
        if (!ticket.migrationId().equals(offer.migrationId())) {
            throw new IllegalArgumentException("ticket for migration " + ticket.migrationId() + ", this is " + offer.migrationId());
        }
        try {
            checkFailed();
            JournalTail.await(beganJournal);
            phase = MigrationPhase.PERFORMING;
            performingJournal = journals.start(entry(MigrationPhase.PERFORMING, "to " + ticket.targetHost() + " at " + ticket.endpoint()));
            emit(MigrationPhase.PERFORMING, 0, 0, 0, 0);
            memory = machine.memory().retain();
            ledger = new ChunkLedger(memory, version);
            connect(ticket);
            if (request.stopAndCopy()) {
                mode = "stop-and-copy";
                tFirstPage = ticker.nanos();
                JournalTail.await(performingJournal);
                switchover(null, 1);
            } else {
                precopy();
            }
        } catch (MigrationException e) {
            fail(e.failure());
            throw cleanup();
        } catch (UncheckedIOException e) {
            fail(new MigrationFailure.PeerLost("target", e.getCause().getMessage()));
            throw cleanup();
        } catch (CoreException e) {
            fail(new MigrationFailure.HostError(host.name(), e.getMessage()));
            throw cleanup();
        } catch (RuntimeException e) {
            LOG.error("migration {}: unexpected failure", offer.migrationId(), e);
            fail(new MigrationFailure.HostError(host.name(), e.toString()));
            throw cleanup();
        }
    }

    @SuppressWarnings("unchecked")
    private void connect(MigrationTicket ticket) {
        failpoints.hit("source.connect", aborted);
        byte[] token = HexFormat.of().parseHex(ticket.token());
        chans = new FrameChannel[channels];
        writers = new FrameWriter[channels];
        senders = new Sender[channels];
        helloAcks = new CompletableFuture[channels];
        RateLimiter limiter = request.bandwidthBytesPerSecond() > 0 ? new RateLimiter(request.bandwidthBytesPerSecond(), ticker) : null;
        AtomicInteger n = new AtomicInteger();
        pool = Executors.newFixedThreadPool(channels, r -> {
            Thread t = new Thread(r, "ferry-send-" + offer.migrationId() + "-" + n.getAndIncrement());
            t.setDaemon(true);
            return t;
        });
        for (int c = 0; c < channels; c++) {
            helloAcks[c] = new CompletableFuture<>();
            try {
                chans[c] = service.transport().connect(ticket.endpoint());
            } catch (IOException e) {
                throw new MigrationException(new MigrationFailure.PeerLost("target", "cannot connect channel " + c + " to "
                        + ticket.endpoint() + ": " + e.getMessage()));
            }
            writers[c] = new FrameWriter(chans[c], c, limiter, wireBytes);
            senders[c] = new Sender(c);
            int index = c;
            Thread reader = new Thread(() -> read(index), "ferry-srcread-" + offer.migrationId() + "-" + c);
            reader.setDaemon(true);
            reader.start();
        }
        for (int c = 0; c < channels; c++) {
            ByteBuffer h = ByteBuffer.allocate(Wire.HELLO_BYTES);
            h.putShort((short) version).putLong(offer.migrationId().getMostSignificantBits())
                    .putLong(offer.migrationId().getLeastSignificantBits()).put(token).putShort((short) c)
                    .putShort((short) channels).putLong(machine.memory().size()).putInt(Wire.PAGE).flip();
            write(c, Command.HELLO, h);
        }
        for (int c = 0; c < channels; c++) {
            await(helloAcks[c], "channel " + c + " handshake");
        }
    }

    private void precopy() {
        DirtyLog log = memory.dirtyLog();
        log.start(true);
        logStarted = true;
        DirtyBitmap bm = log.harvest();
        estimator.harvested(bm.count());
        int throttle = 0;
        tFirstPage = ticker.nanos();
        for (int it = 1;; it++) {
            failpoints.hit("source.precopy.iteration", it, aborted);
            checkFailed();
            estimator.iterationStarted();
            long w0 = wireBytes.sum();
            long z0 = pages(CodecId.ZERO);
            IterationAcks a = version >= 3 ? new IterationAcks(it, channels) : null;
            acks = a;
            long sent = sendRound(bm, it, false, it > 1, xorOk);
            if (a != null) {
                // v3: the iteration ends when the target has installed and hashed it, not when the last byte
                // left here: socket buffers hold megabytes, and the final copy pays for the target's side too.
                await(a.done, "the target's receipt of iteration " + it);
            }
            // Zero pages cost next to nothing: the rate that predicts the final copy counts the others only.
            estimator.iterationEnded(sent - (pages(CodecId.ZERO) - z0), wireBytes.sum() - w0);
            iterations = it;
            JournalTail.await(performingJournal); // durable (it was written during the iteration) before any pause
            estimator.switchoverCost(journals.slowestNanos());
            probeStateCost();
            DirtyBitmap next = log.harvest();
            double rate = estimator.harvested(next.count());
            double mib = rate * Wire.PAGE / (1 << 20);
            dirtyRates.add(mib);
            long expected = estimator.expectedDowntimeNanos(next.count(), distinctChunks(next), channels);
            emit(MigrationPhase.PERFORMING, it, next.count(), mib, expected == Long.MAX_VALUE ? -1 : expected / 1_000_000);
            if (expected <= request.downtimeLimit().toNanos()) {
                switchover(next, it + 1);
                return;
            }
            if (it >= request.maxIterations()) {
                switch (request.onNonConvergence()) {
                    case FORCE:
                        switchover(next, it + 1);
                        return;
                    case POST_COPY:
                        postCopy(next, it + 1);
                        return;
                    default:
                        throw new MigrationException(new MigrationFailure.NotConverged(it, next.count(),
                                expected == Long.MAX_VALUE ? -1 : expected / 1_000_000, throttle));
                }
            }
            if (request.autoConverge()) {
                throttle = throttle == 0 ? 20 : Math.min(99, throttle + 10);
                machine.setThrottle(throttle);
                throttleMax = Math.max(throttleMax, throttle);
            }
            bm = next;
        }
    }

    /**
     * Encodes a state of the running guest's shape (its vCPUs' register files, its serial device), as
     * switch-over will after the pause, and charges that cost and the bytes of state and digests to the
     * estimate: they are spent inside the downtime whatever is left to copy. The registers are blanks: a
     * live snapshot would need a task on every vCPU thread mid-iteration, and the cost is in the encoding
     * and the bytes, not the values. Cheap enough per iteration (a few KiB).
     */
    private void probeStateCost() {
        long t0 = ticker.nanos();
        int n = machine.vcpus().size();
        VcpuState[] states = new VcpuState[n];
        for (int i = 0; i < n; i++) {
            states[i] = new VcpuState(i, 0, new long[GuestProgram.REGISTERS]);
        }
        byte[] encoded = service.encodeState(new MachineState(states, machine.serial().save()));
        long digestBytes = 8L * ledger.chunks() + 8L * (1 + ledger.chunks() / Wire.MAX_WORDS_PER_FRAME);
        estimator.stateCost(ticker.nanos() - t0, encoded.length + Wire.HEADER_BYTES + digestBytes);
    }

    private static long distinctChunks(DirtyBitmap bm) {
        long n = 0;
        long lastChunk = -1;
        for (long p = bm.nextDirty(0); p >= 0; p = bm.nextDirty(p + 1)) {
            long c = p / Wire.CHUNK_PAGES;
            if (c != lastChunk) {
                n++;
                lastChunk = c;
            }
        }
        return n;
    }

    /** Pause, send what is left, then state and digests; returns once the target has it all. */
    private void switchover(DirtyBitmap next, int finalIteration) {
        failpoints.hit("source.switchover", aborted);
        DirtyBitmap fin = pause(next, false);
        sendRound(fin, finalIteration, true, true, xorOk);
        tFinalSent = ticker.nanos();
        MachineState st = machine.saveState();
        failpoints.hit("source.state", aborted);
        write(0, Command.STATE, ByteBuffer.wrap(service.encodeState(st)));
        sendWords(Command.DIGEST, ledger.hashes());
        await(ready, "receipt of the stream by the target");
        tReady = ticker.nanos();
        JournalTail.await(switchedOverJournal); // a journal that cannot write fails the migration here, before DONE
        sendDone();
    }

    /**
     * Pauses the guest and takes the last harvest. SWITCHED_OVER is journaled while the final pages go
     * out, not before: the verdict after a crash is the same for SWITCHED_OVER as for PERFORMING (the
     * guest is on the source), so nothing waits for that fsync inside the downtime; it is durable before
     * DONE, and every later entry lands after it. Post-copy journals POSTCOPY before the pause instead and
     * must not overwrite it.
     */
    private DirtyBitmap pause(DirtyBitmap next, boolean forPostCopy) {
        tPause = ticker.nanos();
        machine.pause();
        phase = MigrationPhase.SWITCHED_OVER;
        if (!forPostCopy) {
            switchedOverJournal = journals.start(entry(MigrationPhase.SWITCHED_OVER, "guest paused"));
        }
        emit(MigrationPhase.SWITCHED_OVER, iterations, next == null ? memory.pageCount() : next.count(), 0, 0);
        if (next == null) {
            return DirtyBitmap.all(memory.pageCount());
        }
        DirtyBitmap fin = next.union(memory.dirtyLog().harvest());
        memory.dirtyLog().stop();
        logStarted = false;
        return fin;
    }

    /**
     * Post-copy: pause, hand the target the state and the map of what it lacks, let it run, stream the rest.
     *
     * <p>POSTCOPY is journaled here, durably, before the pause: once POSTCOPY goes out the target may run
     * the guest, and this entry alone makes the verdict LOST (unless the target finishes), so a v3 target
     * starts the guest without waiting for its own entry, and no fsync sits inside the downtime. If this
     * side fails before POSTCOPY goes out, it records ABORTED before it resumes the guest (see cleanup).
     * After POSTCOPY went out this side resumes only on the target's ABORT (sent once it stopped its copy);
     * any other end without ACK(postcopy running) loses the guest rather than risk two copies.
     */
    private void postCopy(DirtyBitmap next, int finalIteration) {
        failpoints.hit("source.postcopy", aborted);
        mode = "post-copy";
        // Set before the write: a write that failed may still have landed (renamed, not yet fsynced), and then
        // only a durable ABORTED over it lets the guest resume here.
        postCopyJournaled = true;
        journal(MigrationPhase.POSTCOPY, "post-copy: the guest moves to the target once paused here");
        DirtyBitmap fin = pause(next, true);
        MachineState st = machine.saveState();
        long[] words = fin.toWords();
        sendWords(Command.DIRTY_MAP, words);
        write(0, Command.STATE, ByteBuffer.wrap(service.encodeState(st)));
        postCopySent = true; // before the write: a target that starts the guest must find this side knowing it may
        write(0, Command.POSTCOPY, ByteBuffer.allocate(0));
        await(postCopyRunning, "the target starting the guest");
        tRunning = ticker.nanos();
        postCopyStarted = true; // from here on the guest lives on the target
        phase = MigrationPhase.POSTCOPY;
        emit(MigrationPhase.POSTCOPY, iterations, fin.count(), 0, 0);
        failpoints.hit("source.postcopy.stream", aborted);
        List<CompletableFuture<Long>> fs = new ArrayList<>();
        for (Sender s : senders) {
            fs.add(CompletableFuture.supplyAsync(() -> s.streamPostCopy(words, finalIteration), pool));
        }
        join(fs);
        tFinalSent = ticker.nanos();
        await(ready, "the last post-copy page on the target");
        tReady = ticker.nanos();
        sendDone();
    }

    private long sendRound(DirtyBitmap bm, int iteration, boolean fin, boolean cacheable, boolean xor) {
        List<CompletableFuture<Long>> fs = new ArrayList<>();
        for (Sender s : senders) {
            fs.add(CompletableFuture.supplyAsync(() -> s.sendIteration(bm, iteration, fin, cacheable, xor), pool));
        }
        return join(fs);
    }

    private long join(List<CompletableFuture<Long>> fs) {
        CompletableFuture<Void> all = CompletableFuture.allOf(fs.toArray(new CompletableFuture[0]));
        try {
            CompletableFuture.anyOf(all, failed).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MigrationException(new MigrationFailure.Cancelled("interrupted"));
        } catch (ExecutionException e) {
            throw unwrap(e.getCause());
        }
        checkFailed();
        long sum = 0;
        for (CompletableFuture<Long> f : fs) {
            sum += f.join();
        }
        return sum;
    }

    private MigrationException unwrap(Throwable t) {
        if (t instanceof java.util.concurrent.CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        if (failure != null) {
            return new MigrationException(failure);
        }
        if (t instanceof MigrationException) {
            return (MigrationException) t;
        }
        if (t instanceof UncheckedIOException) {
            return new MigrationException(new MigrationFailure.PeerLost("target", t.getCause().getMessage()));
        }
        if (t instanceof CoreException) {
            return new MigrationException(new MigrationFailure.HostError(host.name(), t.getMessage()));
        }
        return new MigrationException(new MigrationFailure.HostError(host.name(), String.valueOf(t)));
    }

    private void await(CompletableFuture<Void> f, String what) {
        try {
            CompletableFuture.anyOf(f, failed).get(request.timeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new MigrationException(new MigrationFailure.TimedOut(what, request.timeout()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MigrationException(new MigrationFailure.Cancelled("interrupted"));
        } catch (ExecutionException e) {
            throw unwrap(e.getCause());
        }
        checkFailed();
    }

    private void sendWords(Command c, long[] words) {
        for (int first = 0; first < words.length; first += Wire.MAX_WORDS_PER_FRAME) {
            int n = Math.min(Wire.MAX_WORDS_PER_FRAME, words.length - first);
            ByteBuffer b = ByteBuffer.allocate(8 + 8 * n);
            b.putInt(first).putInt(n);
            for (int i = 0; i < n; i++) {
                b.putLong(words[first + i]);
            }
            b.flip();
            write(0, c, b);
        }
    }

    private void sendDone() {
        doneSending = true;
        for (int c = 0; c < channels; c++) {
            write(c, Command.DONE, ByteBuffer.allocate(0));
        }
    }

    private void write(int c, Command cmd, ByteBuffer payload) {
        try {
            writers[c].write(cmd, payload);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void checkFailed() {
        MigrationFailure f = failure;
        if (f != null) {
            throw new MigrationException(f);
        }
    }

    // ---- the return path ----

    private void read(int c) {
        FrameDecoder decoder = new FrameDecoder(c, false);
        ByteBuffer in = ByteBuffer.allocate(64 * 1024);
        in.flip();
        try {
            while (true) {
                Frame f = decoder.next(in);
                if (f == null) {
                    in.compact();
                    int n = chans[c].read(in);
                    in.flip();
                    if (n < 0) {
                        if (!doneSending) {
                            fail(new MigrationFailure.PeerLost("target", "channel " + c + " closed"));
                        }
                        return;
                    }
                    continue;
                }
                if (!onReturnFrame(c, f)) {
                    return;
                }
            }
        } catch (MigrationException e) {
            fail(e.failure());
        } catch (IOException e) {
            if (!doneSending) {
                fail(new MigrationFailure.PeerLost("target", "channel " + c + ": " + e.getMessage()));
            }
        } catch (java.nio.BufferUnderflowException e) {
            fail(new MigrationFailure.StreamCorrupt(c, decoder.frames(), "return frame payload too short"));
        }
    }

    private boolean onReturnFrame(int c, Frame f) {
        ByteBuffer p = f.payload();
        switch (f.command()) {
            case ACK:
                if (f.length() != Wire.ACK_BYTES) {
                    throw MigrationException.corrupt(c, f.sequence(), "ACK of " + f.length() + " bytes");
                }
                int kind = p.get();
                if (kind == Wire.ACK_HELLO) {
                    helloAcks[c].complete(null);
                } else if (kind == Wire.ACK_READY && c == 0) {
                    ready.complete(null);
                } else if (kind == Wire.ACK_POSTCOPY_RUNNING && c == 0) {
                    postCopyRunning.complete(null);
                } else if (kind == Wire.ACK_SYNC && version >= 3) {
                    long it = p.getLong();
                    IterationAcks a = acks;
                    if (a == null || !a.acked(c, it)) {
                        throw MigrationException.corrupt(c, f.sequence(), "ACK of SYNC for iteration " + it + " unexpected here");
                    }
                } else {
                    throw MigrationException.corrupt(c, f.sequence(), "unexpected ACK kind " + kind);
                }
                return true;
            case PAGE_REQUEST:
                if (c != 0 || f.length() != Wire.PAGE_REQUEST_BYTES) {
                    throw MigrationException.corrupt(c, f.sequence(), "PAGE_REQUEST must be 4 bytes on channel 0");
                }
                long page = p.getInt() & 0xFFFFFFFFL;
                if (page >= machine.memory().pageCount()) {
                    throw MigrationException.corrupt(c, f.sequence(), "request for page " + page + " beyond the guest");
                }
                senders[Wire.channelOf(page, channels)].request(page);
                return true;
            case ABORT:
                if (doneSending) {
                    return false; // after READY the control plane carries finish's outcome to confirm or abort
                }
                String why = MigrationTarget.abortReason(p);
                targetAborted = true;
                fail(helloAcks[c].isDone() ? new MigrationFailure.PeerLost("target", "aborted: " + why)
                        : new MigrationFailure.Rejected("hello", why));
                return false;
            default:
                throw MigrationException.corrupt(c, f.sequence(), "unexpected " + f.command() + " from the target");
        }
    }

    /** v3: which channels acknowledged the SYNC of one pre-copy iteration; done once all of them did. */
    private static final class IterationAcks {
        final long iteration;
        final CompletableFuture<Void> done = new CompletableFuture<>();
        private final boolean[] seen;
        private int count;

        IterationAcks(long iteration, int channels) {
            this.iteration = iteration;
            this.seen = new boolean[channels];
        }

        /** False for a wrong iteration or a second ACK on a channel. */
        synchronized boolean acked(int channel, long it) {
            if (it != iteration || seen[channel]) {
                return false;
            }
            seen[channel] = true;
            if (++count == seen.length) {
                done.complete(null);
            }
            return true;
        }
    }

    // ---- one channel's sender ----

    private final class Sender {
        private final int index;
        private final PageEncoder encoder;
        private final ConcurrentLinkedQueue<Long> requests = new ConcurrentLinkedQueue<>();
        private long sentNow;

        Sender(int index) {
            this.index = index;
            this.encoder = new PageEncoder(memory, request.compression(), request.xorCacheBytes() / channels, this::frame);
        }

        private void frame(ByteBuffer payload) throws IOException {
            writers[index].write(Command.RAM, payload);
        }

        void request(long page) {
            requests.add(page);
        }

        long sendIteration(DirtyBitmap bm, int iteration, boolean fin, boolean cacheable, boolean xor) {
            try {
                long sent = 0;
                int chunks = ledger.chunks();
                for (int c = index; c < chunks; c += channels) {
                    if (failure != null) {
                        throw new MigrationException(failure);
                    }
                    int pages = ledger.pagesIn(c);
                    int n = encoder.encodeChunk(bm, (long) c * Wire.CHUNK_PAGES, pages, cacheable, xor);
                    if (n > 0) {
                        ledger.refreshFromMemory(c, n == pages && encoder.lastChunkZeros() == n);
                        sent += n;
                    }
                }
                encoder.flush();
                sync(iteration, fin, sent);
                return sent;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                encoder.close();
            }
        }

        private void sync(int iteration, boolean fin, long sent) throws IOException {
            ByteBuffer s = ByteBuffer.allocate(Wire.SYNC_BYTES);
            s.putInt(iteration).put((byte) (fin ? 1 : 0)).putLong(sent).flip();
            writers[index].write(Command.SYNC, s);
        }

        /** Post-copy: every pending page of this channel once, requested pages first. */
        long streamPostCopy(long[] pending, int iteration) {
            try {
                sentNow = 0;
                int chunks = ledger.chunks();
                for (int c = index; c < chunks; c += channels) {
                    if (failure != null) {
                        throw new MigrationException(failure);
                    }
                    long from = (long) c * Wire.CHUNK_PAGES;
                    long to = from + ledger.pagesIn(c);
                    for (long p = from; p < to; p++) {
                        serveRequests(pending);
                        if (take(pending, p)) {
                            encoder.encode(p, false, false);
                            sentNow++;
                        }
                    }
                }
                serveRequests(pending);
                encoder.flush();
                sync(iteration, true, sentNow);
                return sentNow;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                encoder.close();
            }
        }

        private void serveRequests(long[] pending) throws IOException {
            Long r;
            boolean any = false;
            while ((r = requests.poll()) != null) {
                if (!any) {
                    encoder.flush(); // batches ascend: the requested page goes in a frame of its own
                    any = true;
                }
                if (take(pending, r)) {
                    encoder.encode(r, false, false);
                    encoder.flush();
                    sentNow++;
                }
            }
        }

        /** Clears the page's pending bit; the words of a chunk belong to this sender alone. */
        private boolean take(long[] pending, long p) {
            int w = (int) (p >>> 6);
            long bit = 1L << p;
            if ((pending[w] & bit) == 0) {
                return false;
            }
            pending[w] &= ~bit;
            return true;
        }
    }

    // ---- failure, abort, confirm ----

    /** Stops the migration from any thread; before finish the guest resumes here. */
    public void cancel(String reason) {
        fail(new MigrationFailure.Cancelled(reason));
    }

    private void fail(MigrationFailure f) {
        // Its own lock, never this object's: confirm holds that while it may wait (a slow disk, a hang), and a
        // cancel arriving then must still get through (it ran on the host agent's thread and deadlocked it).
        synchronized (failLock) {
            if (failure != null) {
                return;
            }
            failure = f;
        }
        aborted.countDown();
        failed.complete(null);
        boolean crash = Failpoints.isCrash(f);
        if (chans == null) {
            return;
        }
        // Offer ABORT for a bounded time, then cut every channel: that unblocks writes stuck on a dead peer.
        Thread t = new Thread(() -> {
            if (!crash) {
                byte[] r = f.describe().getBytes(StandardCharsets.UTF_8);
                int n = Math.min(r.length, Wire.MAX_ABORT_BYTES);
                Thread w = new Thread(() -> {
                    try {
                        ByteBuffer b = ByteBuffer.allocate(2 + n);
                        b.putShort((short) n).put(r, 0, n).flip();
                        writers[0].write(Command.ABORT, b);
                    } catch (IOException | RuntimeException ignored) {
                        // the target is gone or stuck: closing below tells it
                    }
                }, "ferry-abort-" + offer.migrationId());
                w.setDaemon(true);
                w.start();
                try {
                    w.join(ABORT_GRACE_MS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            for (FrameChannel ch : chans) {
                if (ch != null) {
                    ch.close();
                }
            }
        }, "ferry-abort-close-" + offer.migrationId());
        t.setDaemon(true);
        aborter = t;
        t.start();
    }

    /** Perform thread, after a failure: undo everything, resume the guest (unless post-copy lost it). */
    private MigrationException cleanup() {
        MigrationFailure f = failure;
        finishCleanup(f);
        return new MigrationException(f);
    }

    private synchronized void finishCleanup(MigrationFailure f) {
        if (cleanedUp) {
            return;
        }
        cleanedUp = true;
        Thread a = aborter;
        if (a != null) {
            try {
                a.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (pool != null) {
            pool.shutdownNow();
        }
        if (memory != null) {
            if (logStarted) {
                memory.dirtyLog().stop();
                logStarted = false;
            }
            memory.release();
            memory = null;
        }
        long end = ticker.nanos();
        MigrationReport.Outcome outcome = f instanceof MigrationFailure.Cancelled ? MigrationReport.Outcome.CANCELLED
                : MigrationReport.Outcome.FAILED;
        if (Failpoints.isCrash(f)) {
            // This side "died": nothing resumes, nothing is journaled, as after a killed process.
            phase = MigrationPhase.ABORTED;
        } else if (postCopyStarted || (postCopySent && !targetAborted)) {
            phase = MigrationPhase.GUEST_LOST;
            outcome = MigrationReport.Outcome.GUEST_LOST;
            safeJournal(MigrationPhase.GUEST_LOST, f.describe());
            try {
                vm.loseMigrationOut(); // never resumed here; stopped with its definition, to be started again
            } catch (CoreException e) {
                LOG.error("migration {}: the lost guest could not be stopped here: {}", offer.migrationId(), e.getMessage());
            }
        } else if (postCopyJournaled) {
            // The durable entry says POSTCOPY (the verdict: LOST), though the target never got the guest.
            // Record ABORTED first: resuming while the journal still says LOST would contradict it.
            phase = MigrationPhase.ABORTED;
            try {
                journal(MigrationPhase.ABORTED, f.describe());
                resume();
            } catch (CoreException e) {
                if (!machine.isPaused()) {
                    machine.pause(); // the POSTCOPY write itself failed before the pause: same rule, the journal may say LOST
                }
                LOG.error("migration {}: ABORTED could not be journaled over POSTCOPY ({}); the guest stays paused here",
                        offer.migrationId(), e.getMessage());
                f = new MigrationFailure.HostError(host.name(), f.describe() + "; then the journal refused ABORTED, so the guest "
                        + "stays paused on the source: " + e.getMessage());
            }
        } else {
            resume();
            phase = MigrationPhase.ABORTED;
            safeJournal(MigrationPhase.ABORTED, f.describe());
        }
        report = buildReport(outcome, f, null, end);
        LOG.info(report.toLogLine());
        emit(phase, iterations, 0, 0, 0);
    }

    private void resume() {
        try {
            vm.abortMigrationOut();
        } catch (CoreException e) {
            LOG.error("migration {}: the source VM could not be resumed: {}", offer.migrationId(), e.getMessage());
        }
    }

    /** The control plane gave up (prepare or finish failed, or a cancel after perform): resume here and report. */
    public MigrationReport abort(MigrationFailure why) {
        fail(why);
        finishCleanup(failure);
        return report;
    }

    /**
     * Confirm: the target finished and runs the guest; release it here for good. Never resumes: if confirm
     * fails (its journal, a failpoint), the VM is released all the same and the report says what failed;
     * if this host cannot release it, the report says so and the VM stays paused here.
     */
    public synchronized MigrationReport confirm(MigrationTarget.Finished finished) {
        if (cleanedUp) {
            return report;
        }
        cleanedUp = true;
        long told = ticker.nanos(); // the source learns here that the guest runs on the target
        if (finished != null && finished.digestVerified()) {
            service.activationMeasured(finished.activation().toNanos()); // pre-copy's activation: the next estimate's allowance
        }
        MigrationFailure problem = null;
        try {
            failpoints.hit("source.confirm", aborted);
            journal(MigrationPhase.CONFIRMED, "guest runs on the target");
            phase = MigrationPhase.CONFIRMED;
        } catch (MigrationException e) {
            problem = e.failure();
        } catch (CoreException e) {
            problem = new MigrationFailure.HostError(host.name(), "confirm journal: " + e.getMessage());
        }
        for (FrameChannel ch : chans) {
            ch.close();
        }
        pool.shutdownNow();
        if (memory != null) {
            memory.release();
            memory = null;
        }
        // The target journaled FINISHED and runs the guest: a copy kept here could only ever be stale, so it
        // is released even when confirm itself failed (libvirt leaves it paused "probably", and nothing in a
        // cluster would ever remove it). After a crash the journals say the same: ON_TARGET. Only a simulated
        // crash leaves it, as a killed process would have left its definition on disk.
        if (!Failpoints.isCrash(problem)) {
            try {
                vm.completeMigrationOut();
            } catch (CoreException e) {
                MigrationFailure release = new MigrationFailure.HostError(host.name(), "release after confirm: " + e.getMessage());
                problem = problem == null ? release : problem;
            }
        }
        report = buildReport(MigrationReport.Outcome.SUCCEEDED, problem, finished, told);
        report = withTotal(report, ticker.nanos());
        LOG.info(report.toLogLine());
        emit(MigrationPhase.CONFIRMED, iterations, 0, 0, 0);
        return report;
    }

    /**
     * After the target aborted with its own, more precise failure (a CRC mismatch it saw, a failpoint of
     * its own), the report names that root cause instead of "target lost".
     */
    synchronized MigrationReport blame(MigrationFailure rootCause) {
        if (report != null && report.outcome() != MigrationReport.Outcome.SUCCEEDED && rootCause != null
                && report.failure() instanceof MigrationFailure.PeerLost) {
            MigrationReport r = report;
            report = new MigrationReport(r.migrationId(), r.vm(), r.outcome(), rootCause, r.mode(), r.channels(), r.total(), r.setup(),
                    r.downtime(), r.targetDowntime(), r.finalMemory(), r.state(), r.activation(), r.iterations(), r.wireBytes(),
                    r.memoryBytes(), r.pagesByCodec(), r.xorHitRate(), r.meanThroughput(), r.peakThroughput(), r.dirtyRatesMiBps(),
                    r.throttleReached(), r.postCopy(), r.postCopyFaults());
        }
        return report;
    }

    /** The report once the migration ended (confirm or abort), else null. */
    public synchronized MigrationReport report() {
        return report;
    }

    private MigrationReport buildReport(MigrationReport.Outcome outcome, MigrationFailure f, MigrationTarget.Finished fin, long end) {
        Map<CodecId, Long> pages = new EnumMap<>(CodecId.class);
        long hits = 0;
        long lookups = 0;
        if (senders != null) {
            for (Sender s : senders) {
                if (s == null) {
                    continue;
                }
                for (CodecId c : CodecId.values()) {
                    pages.merge(c, s.encoder.pages(c), Long::sum);
                }
                hits += s.encoder.xorHits();
                lookups += s.encoder.xorHits() + s.encoder.xorMisses();
            }
        }
        long wire = wireBytes.sum();
        long start = tFirstPage == 0 ? end : tFirstPage;
        long transferEnd = tReady != 0 ? tReady : end;
        double mean = transferEnd > start ? wire * 1e9 / (transferEnd - start) : 0;
        Duration downtime = Duration.ZERO;
        Duration finalMem = Duration.ZERO;
        Duration stateTime = Duration.ZERO;
        Duration postCopy = Duration.ZERO;
        if (tPause != 0) {
            if (postCopyStarted) {
                downtime = nanos(tRunning - tPause);
                postCopy = fin != null ? fin.postCopy() : nanos((tReady != 0 ? tReady : end) - tRunning);
            } else {
                downtime = nanos((fin != null ? end : (tReady != 0 ? tReady : end)) - tPause);
                finalMem = nanos(tFinalSent != 0 ? tFinalSent - tPause : 0);
                stateTime = nanos(tReady != 0 && tFinalSent != 0 ? tReady - tFinalSent : 0);
            }
        }
        return new MigrationReport(offer.migrationId(), vm.spec().name(), outcome, f, mode, channels, nanos(end - tBegin),
                nanos(start - tBegin), downtime, fin == null ? Duration.ZERO : fin.targetDowntime(), finalMem, stateTime,
                fin == null ? Duration.ZERO : fin.activation(), iterations, wire, machine.memory().size(), pages,
                lookups == 0 ? 0 : (double) hits / lookups, mean, estimator.peakBytesPerSecond(), dirtyRates, throttleMax, postCopy,
                fin == null ? 0 : fin.postCopyFaults());
    }

    private MigrationReport withTotal(MigrationReport r, long end) {
        return new MigrationReport(r.migrationId(), r.vm(), r.outcome(), r.failure(), r.mode(), r.channels(), nanos(end - tBegin),
                r.setup(), r.downtime(), r.targetDowntime(), r.finalMemory(), r.state(), r.activation(), r.iterations(), r.wireBytes(),
                r.memoryBytes(), r.pagesByCodec(), r.xorHitRate(), r.meanThroughput(), r.peakThroughput(), r.dirtyRatesMiBps(),
                r.throttleReached(), r.postCopy(), r.postCopyFaults());
    }

    private static Duration nanos(long n) {
        return Duration.ofNanos(Math.max(0, n));
    }

    static MigrationReport rejectedReport(UUID vm, MigrationRequest request, MigrationFailure f) {
        return new MigrationReport(new UUID(0, 0), vm.toString(), MigrationReport.Outcome.FAILED, f, "none", request.channels(),
                Duration.ZERO, Duration.ZERO, Duration.ZERO, Duration.ZERO, Duration.ZERO, Duration.ZERO, Duration.ZERO, 0, 0, 0, Map.of(), 0,
                0, 0, List.of(), 0, Duration.ZERO, 0);
    }

    private MigrationJournal.Entry entry(MigrationPhase p, String detail) {
        return new MigrationJournal.Entry(offer.migrationId(), vm.spec().id(), vm.spec().name(), MigrationJournal.Role.SOURCE, p, "",
                System.currentTimeMillis(), detail);
    }

    /** Durable before it returns, after every entry started before it. */
    private void journal(MigrationPhase p, String detail) {
        journals.write(entry(p, detail));
    }

    private void safeJournal(MigrationPhase p, String detail) {
        try {
            journal(p, detail);
        } catch (CoreException e) {
            LOG.error("migration {}: could not journal {}: {}", offer.migrationId(), p, e.getMessage());
        }
    }

    private void emit(MigrationPhase p, int iteration, long dirty, double rateMiB, long expectedMs) {
        try {
            service.listener().onEvent(new MigrationEvent(offer.migrationId(), vm.spec().name(), p, iteration,
                    senders == null ? 0 : pagesSent(), wireBytes.sum(), dirty, rateMiB, machine.throttlePercent(), expectedMs));
        } catch (RuntimeException e) {
            LOG.warn("migration {}: progress listener failed: {}", offer.migrationId(), e.toString());
        }
    }

    private long pages(CodecId c) {
        long n = 0;
        for (Sender s : senders) {
            n += s.encoder.pages(c);
        }
        return n;
    }

    private long pagesSent() {
        long n = 0;
        for (Sender s : senders) {
            if (s != null) {
                for (CodecId c : CodecId.values()) {
                    n += s.encoder.pages(c);
                }
            }
        }
        return n;
    }
}
