package io.ferryvm.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The two-copies oracle on hand-made runs: it must flag an overlap, and only an overlap. */
class ObserverTest {
    final UUID vm = UUID.randomUUID();

    @Test
    void aSwitchoverIsNoOverlapButAnyCommonInstantIs() {
        // source runs until 100, target from 100 on: a clean switchover
        assertEquals(List.of(), Observer.overlaps(List.of(new Observer.Run("host1", 1, vm, 0, 100),
                new Observer.Run("host2", 1, vm, 100, Long.MAX_VALUE))));
        // one microsecond in common is two copies
        assertEquals(1, Observer.overlaps(List.of(new Observer.Run("host1", 1, vm, 0, 101),
                new Observer.Run("host2", 1, vm, 100, 200))).size());
        // still running on both
        assertTrue(Observer.overlaps(List.of(new Observer.Run("host1", 2, vm, 50, Long.MAX_VALUE),
                new Observer.Run("host3", 1, vm, 10, Long.MAX_VALUE))).get(0).contains("at once"));
    }

    @Test
    void runsOnOneHostOrOfOtherVmsNeverCount() {
        assertEquals(List.of(), Observer.overlaps(List.of(new Observer.Run("host1", 1, vm, 0, 100),
                new Observer.Run("host1", 2, vm, 50, 150), // an incarnation's record and the next one's: one host
                new Observer.Run("host2", 1, UUID.randomUUID(), 0, 100))));
    }
}
