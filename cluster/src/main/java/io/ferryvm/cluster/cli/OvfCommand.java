package io.ferryvm.cluster.cli;

import io.ferryvm.core.DiskSpec;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmSpecJson;
import io.ferryvm.ovf.Content;
import io.ferryvm.ovf.Digest;
import io.ferryvm.ovf.Envelope;
import io.ferryvm.ovf.EnvelopeReader;
import io.ferryvm.ovf.EnvelopeValidator;
import io.ferryvm.ovf.Finding;
import io.ferryvm.ovf.OvfEnvironment;
import io.ferryvm.ovf.OvfException;
import io.ferryvm.ovf.OvfExporter;
import io.ferryvm.ovf.OvfImporter;
import io.ferryvm.ovf.OvfVersion;
import io.ferryvm.ovf.Signing;
import io.ferryvm.ovf.VmSpecMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ferry ovf}: inspect, validate, import, export, sign OVF/OVA packages and build OVF environments. */
@Command(name = "ovf", mixinStandardHelpOptions = true, description = "OVF 1.x/2.x packages and OVA archives.",
        subcommands = {OvfCommand.Inspect.class, OvfCommand.Validate.class, OvfCommand.Import.class, OvfCommand.Export.class,
            OvfCommand.Sign.class, OvfCommand.Env.class})
final class OvfCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    static Map<String, String> props(List<String> kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String s : kv) {
            int eq = s.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--prop '" + s + "' is not key=value");
            }
            m.put(s.substring(0, eq), s.substring(eq + 1));
        }
        return m;
    }

    static List<X509Certificate> certs(Path pem) throws IOException {
        if (pem == null) {
            return List.of();
        }
        return Signing.certificates(Files.readString(pem, StandardCharsets.US_ASCII), pem.toString());
    }

    /** The ovf module's progress callbacks shown as a {@link Progress}: a bar or plain lines on stderr, JSON on stdout. */
    static final class Bar implements OvfImporter.Progress {
        private final Progress progress;

        Bar(String what, boolean json) {
            Progress.Mode mode = Progress.detect(json);
            this.progress = new Progress(mode == Progress.Mode.JSON ? System.out : System.err, mode, what);
        }

        @Override
        public void update(String what, long done, long total) {
            progress.update(what, done, total, Double.NaN, "");
        }

        void end() {
            progress.end();
        }
    }

    @Command(name = "inspect", mixinStandardHelpOptions = true, description = "Show what a package holds and the VMs it maps to.")
    static final class Inspect implements Callable<Integer> {
        @Parameters(index = "0", description = "The package: .ova, .ovf, folder, or a VFS URI (zip:, tar:, http:, https:).")
        String source;

        @Option(names = "--deployment-option", description = "Configuration to show (default: the descriptor's default).")
        String option;

        @Override
        public Integer call() {
            OvfImporter.Loaded l = OvfImporter.load(source, OvfImporter.Options.DEFAULT);
            EnvelopeReader.Result r = EnvelopeReader.read(l.descriptor(), l.name());
            Envelope e = r.envelope();
            PrintStream out = System.out;
            out.printf("%s: OVF %s (ovf:version \"%s\"), %d file(s), %d disk(s), %d network(s), %d virtual system(s)%n", l.name(),
                    e.version().label(), e.versionAttribute(), e.references().size(), e.disks().size(), e.networks().size(), e.virtualSystems().size());
            e.references().forEach(f -> out.printf("  file %s: %s%s%s%n", f.id(), f.href(), f.size() >= 0 ? ", " + f.size() + " bytes" : "",
                    (f.gzip() ? ", gzip" : "") + (f.chunked() ? ", chunks of " + f.chunkSize() : "")));
            if (e.deploymentOptions() != null) {
                out.println("  deployment options: " + e.deploymentOptions().configurations().stream().map(c -> c.id() + (c.isDefault() ? "*" : ""))
                        .toList());
            }
            for (VmSpecMapper.Mapped m : VmSpecMapper.toVmSpecs(e, new VmSpecMapper.Options(option, Map.of(), Map.of(), false))) {
                VmSpec s = m.spec();
                out.printf("  VM %s (VirtualSystem %s): %d vCPU, %s, os %s%n", s.name(), m.virtualSystemId(), s.vcpus(), Sizes.human(s.memoryBytes()),
                        s.osType().isEmpty() ? "?" : s.osType());
                for (DiskSpec d : s.disks()) {
                    out.printf("    disk %s: %s on %s%s%n", d.name(), Sizes.human(d.capacityBytes()), d.bus(), d.readOnly() ? ", read-only" : "");
                }
                s.nics().forEach(n -> out.printf("    nic %s: network %s, %s%n", n.name(), n.network(), n.model()));
                m.warnings().forEach(w -> out.println("    warning: " + w));
            }
            return 0;
        }
    }

    @Command(name = "validate", mixinStandardHelpOptions = true, description = "Check a descriptor: errors, warnings and XSD findings with line and column.")
    static final class Validate implements Callable<Integer> {
        @Parameters(index = "0", description = "The package or descriptor.")
        String source;

        @Option(names = "--schemas", description = "Folder of the DMTF schemas (holding ovf-1.1.1_xen-orchestra/, ovf-2.0.1_itchy/) for XSD warnings.")
        Path schemas;

        @Override
        public Integer call() {
            OvfImporter.Loaded l = OvfImporter.load(source, OvfImporter.Options.DEFAULT);
            List<Finding> findings = EnvelopeValidator.validate(l.descriptor(), l.name(), schemas);
            long errors = findings.stream().filter(Finding::isError).count();
            findings.forEach(System.out::println);
            System.out.printf("%s: %d error(s), %d warning(s)%n", l.name(), errors, findings.size() - errors);
            return errors > 0 ? 1 : 0;
        }
    }

    @Command(name = "import", mixinStandardHelpOptions = true, description = "Import a package into a new folder (atomic: all or nothing).")
    static final class Import implements Callable<Integer> {
        @Parameters(index = "0", description = "The package: .ova, .ovf, folder, or a VFS URI.")
        String source;

        @Parameters(index = "1", description = "The folder to create (must not exist).")
        Path target;

        @Option(names = "--deployment-option", description = "Configuration to import (default: the descriptor's default).")
        String option;

        @Option(names = "--prop", description = "A property value key=value (repeatable).")
        List<String> props = new ArrayList<>();

        @Option(names = "--require-manifest", description = "Refuse packages without a manifest.")
        boolean requireManifest;

        @Option(names = "--require-signature", description = "Refuse packages without a valid signature.")
        boolean requireSignature;

        @Option(names = "--trust", description = "PEM file of trusted certificates for signatures.")
        Path trust;

        @Option(names = "--schemas", description = "DMTF schema folder for XSD warnings.")
        Path schemas;

        @Option(names = "--strict", description = "Refuse unknown sections marked ovf:required (DSP0243); default: warn.")
        boolean strict;

        @Option(names = "--json", description = "Progress and the result as JSON lines (for scripts).")
        boolean json;

        @Override
        public Integer call() throws IOException {
            OvfImporter.Options o = new OvfImporter.Options(io.ferryvm.ovf.Limits.DEFAULT,
                    new VmSpecMapper.Options(option, props(props), Map.of(), strict), requireManifest, requireSignature, certs(trust), schemas);
            Bar bar = new Bar("import", json);
            OvfImporter.Result r;
            try {
                r = new OvfImporter(o, bar).importPackage(source, target);
            } finally {
                bar.end();
            }
            if (json) {
                com.fasterxml.jackson.databind.node.ObjectNode end = FerryClient.JSON.createObjectNode().put("event", "import-ended")
                        .put("summary", r.summary());
                com.fasterxml.jackson.databind.node.ArrayNode w = end.putArray("warnings");
                r.findings().stream().filter(f -> !f.isError()).forEach(f -> w.add(f.toString()));
                r.warnings().forEach(w::add);
                System.out.println(end);
                return 0;
            }
            r.findings().stream().filter(f -> !f.isError()).forEach(f -> System.out.println(f));
            r.warnings().forEach(w -> System.out.println("warning: " + w));
            System.out.println(r.summary());
            return 0;
        }
    }

    @Command(name = "export", mixinStandardHelpOptions = true, description = "Export VMs (VmSpec JSON files with raw disks) as an OVA or OVF folder.")
    static final class Export implements Callable<Integer> {
        @Parameters(arity = "1..*", description = "VmSpec JSON file(s).")
        List<Path> specs;

        @Option(names = {"-o", "--output"}, required = true, description = "The .ova file (or folder with --folder) to create.")
        Path output;

        @Option(names = "--ovf-version", defaultValue = "2", description = "1 or 2 (default ${DEFAULT-VALUE}).")
        int version;

        @Option(names = "--target", defaultValue = "vmware", description = "vmware, virtualbox or ferry (default ${DEFAULT-VALUE}).")
        String target;

        @Option(names = "--digest", description = "sha1, sha256 or sha512 (default: sha256 for 2.x, sha1 for 1.x).")
        String digest;

        @Option(names = "--folder", description = "Write an OVF folder instead of an OVA.")
        boolean folder;

        @Option(names = "--key", description = "PEM private key to sign with (needs --cert).")
        Path key;

        @Option(names = "--cert", description = "PEM certificate (chain) of the signer.")
        Path cert;

        @Option(names = "--json", description = "Progress and the result as JSON lines (for scripts).")
        boolean json;

        @Override
        public Integer call() throws IOException {
            List<VmSpec> vms = new ArrayList<>();
            for (Path p : specs) {
                vms.add(VmSpecJson.read(Files.readAllBytes(p), VmSpec.class, p.toString(), true));
            }
            OvfVersion v = version == 1 ? OvfVersion.V1 : version == 2 ? OvfVersion.V2 : null;
            if (v == null) {
                throw new IllegalArgumentException("--ovf-version must be 1 or 2");
            }
            OvfExporter.Options o = new OvfExporter.Options(v, OvfExporter.Target.valueOf(target.toUpperCase(Locale.ROOT)),
                    digest == null ? null : Digest.valueOf(digest.toUpperCase(Locale.ROOT).replace("-", "")), !folder,
                    key == null ? null : Signing.privateKey(Files.readString(key), key.toString()), certs(cert));
            Bar bar = new Bar("export", json);
            OvfExporter.Result r;
            try {
                r = new OvfExporter(o, bar).export(vms, output);
            } finally {
                bar.end();
            }
            if (json) {
                com.fasterxml.jackson.databind.node.ObjectNode end = FerryClient.JSON.createObjectNode().put("event", "export-ended")
                        .put("vms", vms.size()).put("output", r.output().toString()).put("bytes", r.bytes())
                        .put("seconds", r.elapsed().toNanos() / 1e9);
                r.members().forEach(end.putArray("members")::add);
                System.out.println(end);
                return 0;
            }
            System.out.printf(Locale.ROOT, "exported %d VM(s) to %s: %s, %d bytes in %.2f s%n", vms.size(), r.output(), r.members(), r.bytes(),
                    r.elapsed().toNanos() / 1e9);
            return 0;
        }
    }

    @Command(name = "sign", mixinStandardHelpOptions = true, description = "Sign a package's manifest (ovftool/VirtualBox .cert format).")
    static final class Sign implements Callable<Integer> {
        @Parameters(index = "0", description = "An OVF folder (the .cert is added) or an .ova (a signed copy is written to -o).")
        Path pkg;

        @Option(names = "--key", required = true, description = "PEM private key.")
        Path key;

        @Option(names = "--cert", required = true, description = "PEM certificate (chain) of the signer.")
        Path cert;

        @Option(names = {"-o", "--output"}, description = "The signed .ova to create (for an .ova input).")
        Path output;

        @Override
        public Integer call() throws IOException {
            if (!Files.isDirectory(pkg) && output == null) {
                throw new IllegalArgumentException("signing an .ova writes a new one: give -o");
            }
            Path p = Signing.signPackage(pkg, Signing.privateKey(Files.readString(key), key.toString()), certs(cert), output);
            System.out.println("signed: " + p);
            return 0;
        }
    }

    @Command(name = "env", mixinStandardHelpOptions = true, description = "Build the OVF environment (ovf-env.xml, optionally an ISO) for a VM.")
    static final class Env implements Callable<Integer> {
        @Parameters(index = "0", description = "The package or descriptor.")
        String source;

        @Option(names = "--vs", description = "VirtualSystem id (default: the first).")
        String vs;

        @Option(names = "--prop", description = "A property value key=value (repeatable).")
        List<String> props = new ArrayList<>();

        @Option(names = "--deployment-option", description = "Configuration (default: the descriptor's default).")
        String option;

        @Option(names = {"-o", "--output"}, description = "Write ovf-env.xml here (default: standard output).")
        Path output;

        @Option(names = "--iso", description = "Also write an ISO 9660 image holding ovf-env.xml (the iso transport).")
        Path iso;

        @Override
        public Integer call() throws IOException {
            OvfImporter.Loaded l = OvfImporter.load(source, OvfImporter.Options.DEFAULT);
            Envelope e = EnvelopeReader.read(l.descriptor(), l.name()).envelope();
            List<Content.VirtualSystem> all = e.virtualSystems();
            if (all.isEmpty()) {
                throw new OvfException(OvfException.Kind.INVALID, l.name() + ": no VirtualSystem");
            }
            String id = vs != null ? vs : all.get(0).id();
            byte[] doc = OvfEnvironment.document(e, id, props(props), option, OvfEnvironment.Platform.FERRY);
            if (output != null) {
                Files.write(output, doc, java.nio.file.StandardOpenOption.CREATE_NEW);
            } else if (iso == null) {
                System.out.write(doc);
                System.out.flush();
            }
            if (iso != null) {
                OvfEnvironment.writeIso(doc, iso);
                System.err.println("wrote " + iso);
            }
            return 0;
        }
    }
}
