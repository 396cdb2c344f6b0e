package io.ferryvm.core;

import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

/**
 * The legal lifecycle transitions, as data. A request not in the table is refused with a reason that
 * says what the VM is doing and what would be legal instead; nothing is changed by a refused request.
 *
 * <pre>
 *   DEFINED --start--> RUNNING --pause--> PAUSED --resume--> RUNNING
 *   RUNNING|PAUSED --stop|save--> STOPPED --start--> RUNNING
 *   DEFINED|STOPPED --restore--> PAUSED|RUNNING     DEFINED|STOPPED --undefine--> (gone)
 *   RUNNING|PAUSED --migrate-out--> MIGRATING --abort--> (status before) | --done--> (gone) | --lost--> STOPPED
 *   (incoming) MIGRATING --in-done--> RUNNING|PAUSED | --in-abort--> (gone)
 * </pre>
 */
public final class Lifecycle {
    /** Where an action leads from a status; REMOVED means the VM leaves this host. */
    public enum Target { RUNNING, PAUSED, STOPPED, RESTORED, REMOVED, PREVIOUS }

    private static final Map<VmStatus, Map<VmAction, Target>> TABLE = new EnumMap<>(VmStatus.class);

    static {
        allow(VmStatus.DEFINED, VmAction.START, Target.RUNNING);
        allow(VmStatus.DEFINED, VmAction.RESTORE, Target.RESTORED);
        allow(VmStatus.DEFINED, VmAction.UNDEFINE, Target.REMOVED);
        allow(VmStatus.RUNNING, VmAction.PAUSE, Target.PAUSED);
        allow(VmStatus.RUNNING, VmAction.STOP, Target.STOPPED);
        allow(VmStatus.RUNNING, VmAction.SAVE, Target.STOPPED);
        allow(VmStatus.RUNNING, VmAction.MIGRATE_OUT, Target.PREVIOUS);
        allow(VmStatus.PAUSED, VmAction.RESUME, Target.RUNNING);
        allow(VmStatus.PAUSED, VmAction.STOP, Target.STOPPED);
        allow(VmStatus.PAUSED, VmAction.SAVE, Target.STOPPED);
        allow(VmStatus.PAUSED, VmAction.MIGRATE_OUT, Target.PREVIOUS);
        allow(VmStatus.STOPPED, VmAction.START, Target.RUNNING);
        allow(VmStatus.STOPPED, VmAction.RESTORE, Target.RESTORED);
        allow(VmStatus.STOPPED, VmAction.UNDEFINE, Target.REMOVED);
        allow(VmStatus.MIGRATING, VmAction.MIGRATE_OUT_ABORT, Target.PREVIOUS);
        allow(VmStatus.MIGRATING, VmAction.MIGRATE_OUT_DONE, Target.REMOVED);
        allow(VmStatus.MIGRATING, VmAction.MIGRATE_OUT_LOST, Target.STOPPED);
        allow(VmStatus.MIGRATING, VmAction.MIGRATE_IN_DONE, Target.RESTORED);
        allow(VmStatus.MIGRATING, VmAction.MIGRATE_IN_ABORT, Target.REMOVED);
    }

    private Lifecycle() {}

    private static void allow(VmStatus from, VmAction action, Target to) {
        TABLE.computeIfAbsent(from, k -> new EnumMap<>(VmAction.class)).put(action, to);
    }

    public static boolean isLegal(VmStatus from, VmAction action) {
        return TABLE.getOrDefault(from, Map.of()).containsKey(action);
    }

    /** Where action leads from status, or empty when it is illegal. */
    public static Optional<Target> target(VmStatus from, VmAction action) {
        return Optional.ofNullable(TABLE.getOrDefault(from, Map.of()).get(action));
    }

    /** Throws ILLEGAL_TRANSITION with a reason unless action is legal from status. */
    public static Target check(String vm, VmStatus from, VmAction action) {
        return target(from, action).orElseThrow(() -> new CoreException(CoreException.Kind.ILLEGAL_TRANSITION,
                "VM " + vm + " is " + from.name().toLowerCase() + ": cannot " + verb(action) + " it (allowed: "
                        + TABLE.getOrDefault(from, Map.of()).keySet().stream().map(Lifecycle::verb).toList() + ")"));
    }

    static String verb(VmAction a) {
        return a.name().toLowerCase().replace('_', '-');
    }
}
