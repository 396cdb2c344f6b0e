package io.ferryvm.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.guest.Workload;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Concurrency regression: a v2 source does not wait for ACK(sync), so when POSTCOPY arrives on channel 0 the
 * last pre-copy frames of channel 1 may still be unread. The target used to start the guest anyway; those
 * frames then filled pages of the dirty map with their older copies and marked them present, so the
 * source's fresh copies were dropped (PostCopyTest.aPreviousVersionSourceStillGoesPostCopy failed about 1
 * run in 16 with a pagewalk page "older than its predecessor").
 *
 * <p>The interleaving is forced, not timed: everything the source writes on channel 1 after its HELLO is held
 * back (the source sees its writes complete) and delivered, in order, only once the target says
 * ACK(postcopy running). Unfixed, that ACK comes while channel 1's whole pre-copy is held, and the late
 * frames then install stale copies of dirty pages. Fixed, the target waits for channel 1's SYNC before it
 * starts the guest, so no ACK can come while channel 1 is held; the hold then ends after a bound counted
 * from POSTCOPY's send (the bound only keeps the fixed run short; it decides nothing).
 */
class PostCopyLatePreCopyRaceTest {
    private static final long MEM = 32L << 20;
    private static final long HOLD_BOUND_MS = 2_000;

    @TempDir
    Path dir;

    @Test
    void theGuestDoesNotRunBeforeEveryChannelsPreCopyIsInstalled() {
        InMemoryTransport mem = new InMemoryTransport();
        CountDownLatch postCopySent = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean runningWhileHeld = new AtomicBoolean();
        mem.intercept((conn, toTarget, bytes) -> {
            int cmd = bytes[4];
            if (toTarget && conn == 0 && cmd == Command.POSTCOPY.code) {
                postCopySent.countDown();
            } else if (!toTarget && conn == 0 && cmd == Command.ACK.code && bytes.length > Wire.HEADER_BYTES
                    && bytes[Wire.HEADER_BYTES] == Wire.ACK_POSTCOPY_RUNNING) {
                if (release.getCount() > 0) {
                    runningWhileHeld.set(true);
                }
                release.countDown();
            }
            return true;
        });
        HoldingTransport gated = new HoldingTransport(mem, "mem#1/source", postCopySent, release);
        try (TwoHosts h = new TwoHosts(dir, gated)) {
            Workload.PageWalk w = new Workload.PageWalk(0, 24 << 20, 0);
            UUID vm = h.start("walk", 2, MEM, w);
            h.awaitSteps(vm, 50_000);
            MigrationRequest req = MigrationRequest.defaults().withChannels(2).withDowntimeLimit(Duration.ofNanos(1)).withMaxIterations(1)
                    .withNonConvergence(MigrationRequest.NonConvergence.POST_COPY);
            MigrationSource src = MigrationSource.begin(h.from, vm, req, 2);
            MigrationTarget dst = h.to.prepare(src.offer());
            src.perform(dst.ticket());
            MigrationReport r = src.confirm(dst.finish());
            assertTrue(r.succeeded(), r.toLogLine());
            assertEquals("post-copy", r.mode());
            assertTrue(gated.heldFrames() > 1, "channel 1's pre-copy was held back");
            assertFalse(runningWhileHeld.get(), "the target ran the guest while channel 1's pre-copy frames were still unread");
            Guests.assertPageWalkIntact(h.target, vm, w, 2);
        }
    }

    /** InMemoryTransport whose source end of one connection holds back every write after the first (HELLO). */
    private static final class HoldingTransport implements Transport {
        private final Transport inner;
        private final String heldName;
        private final CountDownLatch postCopySent;
        private final CountDownLatch release;
        private final AtomicInteger held = new AtomicInteger();

        HoldingTransport(Transport inner, String heldName, CountDownLatch postCopySent, CountDownLatch release) {
            this.inner = inner;
            this.heldName = heldName;
            this.postCopySent = postCopySent;
            this.release = release;
        }

        int heldFrames() {
            return held.get();
        }

        @Override
        public Listener listen(String name) throws IOException {
            return inner.listen(name);
        }

        @Override
        public FrameChannel connect(Endpoint endpoint) throws IOException {
            FrameChannel c = inner.connect(endpoint);
            return c.name().equals(heldName) ? new Held(c) : c;
        }

        private final class Held implements FrameChannel {
            private final FrameChannel c;
            private final LinkedBlockingQueue<byte[]> queue = new LinkedBlockingQueue<>();
            private boolean helloSent;

            Held(FrameChannel c) {
                this.c = c;
                Thread t = new Thread(this::deliver, "held-" + c.name());
                t.setDaemon(true);
                t.start();
            }

            private void deliver() {
                try {
                    // until ACK(postcopy running), or a bound counted from POSTCOPY's send
                    if (postCopySent.await(60, TimeUnit.SECONDS)) {
                        release.await(HOLD_BOUND_MS, TimeUnit.MILLISECONDS);
                    }
                    release.countDown();
                    while (true) {
                        c.write(new ByteBuffer[] {ByteBuffer.wrap(queue.take())});
                    }
                } catch (InterruptedException | IOException e) {
                    // the channel closed: the migration is over
                }
            }

            @Override
            public synchronized void write(ByteBuffer[] buffers) throws IOException {
                if (!helloSent) {
                    helloSent = true;
                    c.write(buffers);
                    return;
                }
                int n = 0;
                for (ByteBuffer b : buffers) {
                    n += b.remaining();
                }
                byte[] copy = new byte[n];
                int off = 0;
                for (ByteBuffer b : buffers) {
                    int r = b.remaining();
                    b.get(copy, off, r);
                    off += r;
                }
                if (release.getCount() > 0) {
                    held.incrementAndGet();
                }
                queue.add(copy);
            }

            @Override
            public int read(ByteBuffer dst) throws IOException {
                return c.read(dst);
            }

            @Override
            public void close() {
                c.close();
            }

            @Override
            public String name() {
                return c.name();
            }
        }
    }
}
