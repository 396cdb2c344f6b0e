package io.ferryvm.qemu;

import io.ferryvm.core.DiskSpec;
import io.ferryvm.core.VmSpec;
import io.ferryvm.ovf.OvfExporter;
import io.ferryvm.ovf.OvfImporter;
import io.ferryvm.ovf.VmSpecMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * OVF appliances in and out of QEMU guests, through the ovf module: an OVA is imported (disks converted
 * to raw, which QEMU runs as they are) into VmSpecs the {@link QemuDriver} launches; a guest's disks
 * (raw, qcow2 or VMDK, converted to raw with qemu-img first) are exported as streamOptimized VMDKs in an OVA.
 */
public final class OvaExchange {
    private OvaExchange() {}

    /** Imports the package (OVA path or VFS URI) into target (which must not exist) and returns the VMs to launch. */
    public static List<VmSpec> importPackage(String source, Path target) {
        OvfImporter.Result r = new OvfImporter(OvfImporter.Options.DEFAULT, OvfImporter.Progress.NONE).importPackage(source, target);
        return r.vms().stream().map(VmSpecMapper.Mapped::spec).toList();
    }

    /**
     * Exports a guest that is not running (its disks must be consistent) as an OVA; non-raw disks are
     * first converted to raw in scratch with qemu-img.
     */
    public static OvfExporter.Result exportOva(VmSpec spec, Path ova, OvfExporter.Target target, Path scratch) {
        List<DiskSpec> raws = new ArrayList<>();
        try {
            Files.createDirectories(scratch);
            for (DiskSpec d : spec.disks()) {
                if (d.format().equals("raw")) {
                    raws.add(d);
                    continue;
                }
                if (!QemuCommandLine.FORMATS.contains(d.format())) {
                    throw new QemuException(QemuException.Kind.INVALID_SPEC, "VM " + spec.name() + " disk " + d.name() + ": format " + d.format());
                }
                Path raw = scratch.resolve(d.name() + ".raw");
                Files.deleteIfExists(raw);
                qemuImg(List.of("qemu-img", "convert", "-f", d.format(), "-O", "raw", d.path(), raw.toString()), scratch);
                raws.add(new DiskSpec(d.name(), raw.toString(), Math.max(d.capacityBytes(), Files.size(raw)), "raw", d.bus(), d.readOnly()));
            }
        } catch (IOException e) {
            throw new QemuException(QemuException.Kind.IO, "VM " + spec.name() + ": preparing disks in " + scratch + ": " + e.getMessage(), e);
        }
        List<DiskSpec> sized = raws.stream().map(d -> d.capacityBytes() > 0 ? d : withSize(d)).toList();
        OvfExporter.Options opts = new OvfExporter.Options(OvfExporter.Options.DEFAULT.version(), target, null, true, null, List.of());
        return new OvfExporter(opts, OvfImporter.Progress.NONE).export(List.of(spec.withDevices(sized, spec.nics())), ova);
    }

    private static DiskSpec withSize(DiskSpec d) {
        try {
            return new DiskSpec(d.name(), d.path(), Files.size(Path.of(d.path())), d.format(), d.bus(), d.readOnly());
        } catch (IOException e) {
            throw new QemuException(QemuException.Kind.IO, "disk " + d.name() + ": " + e.getMessage(), e);
        }
    }

    private static void qemuImg(List<String> cmd, Path dir) throws IOException {
        Path log = dir.resolve("qemu-img.log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new QemuException(QemuException.Kind.IO, String.join(" ", cmd) + " failed: " + QemuDriver.tail(log));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QemuException(QemuException.Kind.IO, "interrupted: " + String.join(" ", cmd));
        }
    }
}
