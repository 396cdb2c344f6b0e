package io.ferryvm.cim;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One request's view of the backend: hosts, VMs and migrations are fetched at most once per request
 * (so an EnumerateInstances of 1,000 VMs asks the cluster once, and every instance in one answer comes
 * from the same snapshot) and dropped after a change the request made itself.
 */
final class CallContext {
    private final Services services;
    private final String user;
    private final String namespace;
    private List<CimBackend.Host> hosts;
    private List<CimBackend.Vm> vms;
    private Map<String, CimBackend.Vm> byName;
    private List<CimBackend.Migration> migrations;

    CallContext(Services services, String user, String namespace) {
        this.services = services;
        this.user = user;
        this.namespace = namespace;
    }

    String user() {
        return user;
    }

    String namespace() {
        return namespace;
    }

    ClassRepository repo() {
        return services.repo();
    }

    CimBackend backend() {
        return services.backend();
    }

    Services services() {
        return services;
    }

    List<CimBackend.Host> hosts() {
        if (hosts == null) {
            hosts = List.copyOf(services.backend().hosts());
        }
        return hosts;
    }

    Optional<CimBackend.Host> host(String name) {
        return hosts().stream().filter(h -> h.name().equals(name)).findFirst();
    }

    List<CimBackend.Vm> vms() {
        if (vms == null) {
            vms = List.copyOf(services.backend().vms());
        }
        return vms;
    }

    /** One VM: from this request's listing when it has one, else asked for alone (GetInstance stays O(1)). */
    Optional<CimBackend.Vm> vm(String name) {
        if (name == null) {
            return Optional.empty();
        }
        if (vms != null) {
            if (byName == null) {
                byName = new HashMap<>();
                for (CimBackend.Vm v : vms) {
                    byName.put(v.name(), v);
                }
            }
            return Optional.ofNullable(byName.get(name));
        }
        return services.backend().vm(name);
    }

    List<CimBackend.Migration> migrations() {
        if (migrations == null) {
            migrations = List.copyOf(services.backend().migrations());
        }
        return migrations;
    }

    /** Forget what was fetched: this request changed the cluster. */
    void changed() {
        hosts = null;
        vms = null;
        byName = null;
        migrations = null;
    }

    InstanceBuilder instance(String ns, String className) {
        return new InstanceBuilder(services.repo().get(ns, className), ns);
    }
}
