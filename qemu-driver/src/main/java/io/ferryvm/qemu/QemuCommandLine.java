package io.ferryvm.qemu;

import io.ferryvm.core.DiskSpec;
import io.ferryvm.core.NicSpec;
import io.ferryvm.core.NumaSpec;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.machine.Binding;
import io.ferryvm.core.machine.MemoryPolicy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Turns a VmSpec and its placement into a QEMU argv. Everything user-supplied that lands inside a QEMU
 * option string is escaped (',' doubled, as QemuOpts wants) or refused (control characters), so a disk
 * path can never smuggle in another option.
 */
final class QemuCommandLine {
    static final Set<String> FORMATS = Set.of("raw", "qcow2", "vmdk");

    /** Where the guest's files are and how it starts. */
    record Launch(Path qmpSocket, Path serialLog, Accelerator accelerator, boolean incoming, boolean memfd, boolean prealloc) {}

    private QemuCommandLine() {}

    static List<String> build(Path binary, VmSpec spec, Binding binding, Launch launch) {
        List<String> a = new ArrayList<>();
        a.add(binary.toString());
        a.addAll(List.of("-name", "guest=" + opt(spec.name()) + ",debug-threads=on", "-uuid", spec.id().toString()));
        a.addAll(List.of("-nodefaults", "-no-user-config", "-display", "none", "-msg", "timestamp=on"));
        // qemu64 on both accelerators: a guest must be able to land on any host of the cluster.
        a.addAll(List.of("-accel", launch.accelerator().qemuName(), "-cpu", "qemu64"));
        a.addAll(List.of("-smp", Integer.toString(spec.vcpus()), "-m", (spec.memoryBytes() >> 10) + "k"));
        memory(a, spec, binding.memory(), launch.memfd(), launch.prealloc());
        int ide = 0;
        for (int i = 0; i < spec.disks().size(); i++) {
            DiskSpec d = spec.disks().get(i);
            String format = d.format().toLowerCase(java.util.Locale.ROOT);
            if (!FORMATS.contains(format)) {
                throw invalid(spec, "disk " + d.name() + ": format '" + d.format() + "' (QEMU driver takes " + FORMATS + ")");
            }
            String id = "disk" + i;
            a.addAll(List.of("-blockdev", "driver=file,node-name=" + id + "-file,filename=" + path(spec, d.path())
                    + ",read-only=" + (d.readOnly() ? "on" : "off")));
            a.addAll(List.of("-blockdev", "driver=" + format + ",node-name=" + id + ",file=" + id + "-file,read-only=" + (d.readOnly() ? "on" : "off")));
            String dev = switch (d.bus()) {
                case "virtio" -> "virtio-blk-pci,drive=" + id;
                case "sata", "ide" -> {
                    if (ide >= 6) {
                        throw invalid(spec, "disk " + d.name() + ": q35's AHCI controller has 6 ports");
                    }
                    yield "ide-hd,bus=ide." + ide++ + ",drive=" + id;
                }
                case "scsi" -> "scsi-hd,bus=scsi0.0,drive=" + id;
                default -> throw invalid(spec, "disk " + d.name() + ": bus '" + d.bus() + "' (virtio, sata, ide or scsi)");
            };
            if (d.bus().equals("scsi") && spec.disks().subList(0, i).stream().noneMatch(x -> x.bus().equals("scsi"))) {
                a.addAll(List.of("-device", "virtio-scsi-pci,id=scsi0"));
            }
            a.addAll(List.of("-device", dev + ",id=" + id + "-dev" + (i == 0 ? ",bootindex=1" : "")));
        }
        for (int i = 0; i < spec.nics().size(); i++) {
            NicSpec n = spec.nics().get(i);
            String model = switch (n.model()) {
                case "virtio" -> "virtio-net-pci";
                case "e1000", "e1000e" -> "e1000e";
                case "rtl8139" -> "rtl8139";
                default -> throw invalid(spec, "NIC " + n.name() + ": model '" + n.model() + "' (virtio, e1000e or rtl8139)");
            };
            // user-mode networking, restricted: the guest reaches nothing outside itself (tests run offline).
            a.addAll(List.of("-netdev", "user,id=net" + i + ",restrict=on"));
            a.addAll(List.of("-device", model + ",netdev=net" + i + (n.mac().isEmpty() ? "" : ",mac=" + n.mac())));
        }
        a.addAll(List.of("-chardev", "file,id=serial0,path=" + path(spec, launch.serialLog().toString()), "-serial", "chardev:serial0"));
        a.addAll(List.of("-chardev", "socket,id=qmp,path=" + path(spec, launch.qmpSocket().toString()), "-mon", "chardev=qmp,mode=control"));
        // Always start paused: vCPU threads are pinned before the first guest instruction runs.
        a.add("-S");
        if (launch.incoming()) {
            a.addAll(List.of("-incoming", "defer"));
        }
        return a;
    }

    private static void memory(List<String> a, VmSpec spec, MemoryPolicy policy, boolean memfd, boolean prealloc) {
        NumaSpec numa = spec.numa();
        List<Long> cells = new ArrayList<>();
        List<List<Integer>> cpus = new ArrayList<>();
        if (!numa.nodes().isEmpty()) {
            numa.nodes().forEach(n -> {
                cells.add(n.memoryBytes());
                cpus.add(n.vcpus());
            });
        } else if (numa.guestNodes() > 1) {
            int g = numa.guestNodes();
            long per = (spec.memoryBytes() / g) & ~((1L << 20) - 1);
            for (int i = 0; i < g; i++) {
                cells.add(i == g - 1 ? spec.memoryBytes() - per * (g - 1) : per);
                List<Integer> vs = new ArrayList<>();
                for (int v = i; v < spec.vcpus(); v += g) {
                    vs.add(v);
                }
                cpus.add(vs);
            }
        } else {
            cells.add(spec.memoryBytes());
        }
        String kind = memfd ? "memory-backend-memfd" : "memory-backend-ram";
        for (int i = 0; i < cells.size(); i++) {
            StringBuilder o = new StringBuilder(kind).append(",id=ram").append(i).append(",size=").append(cells.get(i));
            if (memfd) {
                o.append(",share=on");
            }
            if (prealloc) {
                o.append(",prealloc=on");
            }
            if (policy.mode() != MemoryPolicy.Mode.DEFAULT) {
                o.append(",host-nodes=").append(policy.nodes().stream().map(String::valueOf).collect(Collectors.joining(",host-nodes=")))
                        .append(",policy=").append(policy.mode().name().toLowerCase(java.util.Locale.ROOT));
            }
            a.addAll(List.of("-object", o.toString()));
        }
        if (cpus.isEmpty()) {
            a.addAll(List.of("-machine", "q35,memory-backend=ram0"));
        } else {
            a.addAll(List.of("-machine", "q35"));
            for (int i = 0; i < cpus.size(); i++) {
                String cs = cpus.get(i).stream().map(c -> "cpus=" + c).collect(Collectors.joining(","));
                a.addAll(List.of("-numa", "node,nodeid=" + i + "," + cs + ",memdev=ram" + i));
            }
        }
    }

    /** A path inside a QEMU option: commas doubled; control characters refused. */
    static String path(VmSpec spec, String p) {
        for (char c : p.toCharArray()) {
            if (c < 0x20 || c == 0x7f) {
                throw invalid(spec, "path '" + p.replaceAll("\\p{Cntrl}", "?") + "' contains a control character");
            }
        }
        if (p.isEmpty()) {
            throw invalid(spec, "empty path");
        }
        return p.replace(",", ",,");
    }

    /** VM names are letters, digits, '.', '_' and '-' (VmSpec checks), so only commas could matter. */
    private static String opt(String s) {
        return s.replace(",", ",,");
    }

    private static QemuException invalid(VmSpec spec, String what) {
        return new QemuException(QemuException.Kind.INVALID_SPEC, "VM " + spec.name() + ": " + what);
    }
}
