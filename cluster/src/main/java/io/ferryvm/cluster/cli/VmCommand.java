package io.ferryvm.cluster.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryvm.cluster.api.VmDefinition;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.guest.Workload;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ferry vm ...}: list, show, define (from a file or flags), lifecycle, delete, check. */
@Command(name = "vm", mixinStandardHelpOptions = true, description = "Manage VMs.",
        subcommands = {VmCommand.ListVms.class, VmCommand.Show.class, VmCommand.Create.class, VmCommand.Start.class,
                VmCommand.Pause.class, VmCommand.Resume.class, VmCommand.Stop.class, VmCommand.Delete.class, VmCommand.Check.class,
                VmCommand.ImportOvf.class})
final class VmCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "list", description = "List the cluster's VMs.")
    static final class ListVms implements Callable<Integer> {
        @Mixin
        ApiOptions api;

        @Override
        public Integer call() {
            Tables.print(System.out, Tables.VM_HEADER, Tables.vmRows(api.client().get("/api/vms")));
            return 0;
        }
    }

    @Command(name = "show", description = "Show one VM as JSON.")
    static final class Show implements Callable<Integer> {
        @Mixin
        ApiOptions api;

        @Parameters(description = "VM name or id.")
        String vm;

        @Override
        public Integer call() throws IOException {
            System.out.println(FerryClient.JSON.writeValueAsString(api.client().get("/api/vms/" + vm)));
            return 0;
        }
    }

    @Command(name = "create", description = "Define a VM from a JSON file (--file) or from flags, and start it unless --no-start.")
    static final class Create implements Callable<Integer> {
        @Mixin
        ApiOptions api;

        @Option(names = "--file", description = "A VM definition in JSON.")
        Path file;

        @Option(names = "--name", description = "VM name.")
        String name;

        @Option(names = "--vcpus", defaultValue = "1")
        int vcpus;

        @Option(names = "--memory", defaultValue = "64M")
        String memory;

        @Option(names = "--workload", defaultValue = "idle", description = "idle, pagewalk, hotset, random, fill (default ${DEFAULT-VALUE}).")
        String workload;

        @Option(names = "--rate", defaultValue = "0", description = "Dirty rate limit of the workload in MiB/s (0 = unlimited).")
        double rate;

        @Option(names = "--seed", defaultValue = "1")
        long seed;

        @Option(names = "--ha", description = "Restart the VM on another host if its host dies.")
        boolean ha;

        @Option(names = "--host", description = "Host to place it on (default: the scheduler decides).")
        String host;

        @Option(names = "--no-start", description = "Only define it.")
        boolean noStart;

        @Override
        public Integer call() throws IOException {
            Object body;
            if (file != null) {
                body = Files.readString(file);
            } else {
                if (name == null) {
                    throw new IllegalArgumentException("give --file or --name");
                }
                long mem = VmDefinition.parseSize(memory);
                VmSpec spec = VmSpec.of(name, vcpus, mem, workload(workload, mem, rate, seed)).withHa(ha ? VmSpec.HaPolicy.RESTART
                        : VmSpec.HaPolicy.NONE);
                body = VmDefinition.of(spec);
            }
            String q = "?start=" + !noStart + (host != null ? "&host=" + host : "");
            JsonNode v = api.client().post("/api/vms" + q, body);
            System.out.println(v.isNull() ? "defined" : "VM " + v.get("spec").get("name").asText() + " (" + v.get("spec").get("id").asText()
                    + ") on " + v.get("host").asText() + ": " + v.get("info").get("status").asText().toLowerCase());
            return 0;
        }
    }

    static Workload workload(String name, long mem, double rate, long seed) {
        return switch (name) {
            case "idle" -> new Workload.Idle();
            case "pagewalk" -> new Workload.PageWalk(0, 0, rate);
            case "hotset" -> new Workload.HotSet(0, Math.max(4096, (mem / 4) & ~4095L), 1.0, rate, seed);
            case "random" -> new Workload.RandomWrites(rate, seed);
            case "fill" -> new Workload.Fill(40, 30, seed);
            default -> throw new IllegalArgumentException("unknown workload '" + name + "': use idle, pagewalk, hotset, random or fill");
        };
    }

    abstract static class Action implements Callable<Integer> {
        @Mixin
        ApiOptions api;

        @Parameters(description = "VM name or id.")
        String vm;

        abstract String verb();

        @Override
        public Integer call() {
            JsonNode v = api.client().post("/api/vms/" + vm + "/" + verb(), null);
            System.out.println(vm + ": " + v.get("info").get("status").asText().toLowerCase() + " on " + v.get("host").asText());
            return 0;
        }
    }

    @Command(name = "start", description = "Start a VM.")
    static final class Start extends Action {
        String verb() {
            return "start";
        }
    }

    @Command(name = "pause", description = "Pause a VM.")
    static final class Pause extends Action {
        String verb() {
            return "pause";
        }
    }

    @Command(name = "resume", description = "Resume a paused VM.")
    static final class Resume extends Action {
        String verb() {
            return "resume";
        }
    }

    @Command(name = "stop", description = "Stop (power off) a VM.")
    static final class Stop extends Action {
        String verb() {
            return "stop";
        }
    }

    @Command(name = "delete", description = "Delete a stopped or defined VM.")
    static final class Delete implements Callable<Integer> {
        @Mixin
        ApiOptions api;

        @Parameters(description = "VM name or id.")
        String vm;

        @Override
        public Integer call() {
            api.client().delete("/api/vms/" + vm);
            System.out.println(vm + ": deleted");
            return 0;
        }
    }

    @Command(name = "check", description = "Compare a VM's memory with its deterministic replay (the guest oracle).")
    static final class Check implements Callable<Integer> {
        @Mixin
        ApiOptions api;

        @Parameters(description = "VM name or id.")
        String vm;

        @Override
        public Integer call() {
            JsonNode c = api.client().post("/api/vms/" + vm + "/check", null);
            System.out.println(vm + ": " + (c.get("ok").asBoolean() ? "OK " : "MISMATCH ") + c.get("detail").asText());
            return c.get("ok").asBoolean() ? 0 : 1;
        }
    }

    @Command(name = "import", description = "Define VMs from an OVF or OVA package (a path or a file:, http(s):, tar:, zip: URI).")
    static final class ImportOvf implements Callable<Integer> {
        @Mixin
        ApiOptions api;

        @Parameters(description = "The package, as the API node sees it.")
        String source;

        @Option(names = "--start", description = "Start the VMs once defined.")
        boolean start;

        @Option(names = "--host", description = "Host to define them on (default: the scheduler decides).")
        String host;

        @Override
        public Integer call() {
            JsonNode r = api.client().post("/api/vms/import", new io.ferryvm.cluster.api.RestApi.ImportRequest(source, start, host));
            for (JsonNode w : r.get("warnings")) {
                System.out.println("warning: " + w.asText());
            }
            for (JsonNode v : r.get("vms")) {
                System.out.println("VM " + v.get("spec").get("name").asText() + " on " + v.get("host").asText() + ": "
                        + v.get("info").get("status").asText().toLowerCase());
            }
            System.out.println(r.get("summary").asText());
            return 0;
        }
    }

    static List<String> programs() {
        return List.of("idle", "pagewalk", "hotset", "random", "fill");
    }
}
