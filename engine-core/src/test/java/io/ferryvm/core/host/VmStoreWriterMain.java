package io.ferryvm.core.host;

import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmStatus;
import io.ferryvm.core.guest.Workload;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;

/** Rewrites one VM definition forever, printing each generation once it is durable: killed by VmStoreCrashTest. */
public final class VmStoreWriterMain {
    private VmStoreWriterMain() {}

    public static void main(String[] args) {
        VmStore store = new VmStore(Path.of(args[0]));
        UUID id = UUID.fromString(args[1]);
        VmSpec base = VmSpec.of("gen-0", 1, 4L << 20, new Workload.Idle()).withId(id);
        for (long gen = 0; ; gen++) {
            // a large metadata map makes each write take several syscalls, widening the window
            Map<String, String> meta = Map.of("generation", Long.toString(gen), "padding", "x".repeat(20_000 + (int) (gen % 5000)));
            store.put(base.withName("gen-" + gen).withOs("linux", meta), VmStatus.DEFINED);
            System.out.println(gen);
            System.out.flush();
        }
    }
}
