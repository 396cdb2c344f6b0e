package io.ferryvm.cim;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * A {@link Provider} put together from functions, so each profile's file reads as a table of classes
 * and what serves them. Unset operations keep the refusals of the interface.
 */
final class SimpleProvider implements Provider {
    interface Invoker {
        MethodResult invoke(CallContext ctx, CimObjectPath target, CimClass.Method method, Map<String, Object> args);
    }

    interface Modifier {
        void modify(CallContext ctx, CimInstance modified, Set<String> propertyList);
    }

    interface Deleter {
        void delete(CallContext ctx, CimObjectPath path);
    }

    private final String namespace;
    private final String className;
    private final Function<CallContext, List<CimInstance>> all;
    private BiFunction<CallContext, CimObjectPath, CimInstance> getter;
    private BiFunction<CallContext, CimObjectPath, List<CimInstance>> scope;
    private BiFunction<CallContext, CimInstance, CimObjectPath> creator;
    private Modifier modifier;
    private Deleter deleter;
    private Invoker invoker;

    private SimpleProvider(String namespace, String className, Function<CallContext, List<CimInstance>> all) {
        this.namespace = namespace;
        this.className = className;
        this.all = all;
    }

    static SimpleProvider of(String namespace, String className, Function<CallContext, List<CimInstance>> all) {
        return new SimpleProvider(namespace, className, all);
    }

    /** A cheaper GetInstance than enumerate-and-filter (returns null when absent). */
    SimpleProvider get(BiFunction<CallContext, CimObjectPath, CimInstance> g) {
        this.getter = g;
        return this;
    }

    /**
     * For associations: the candidate instances that may reference a path (a superset, filtered here),
     * e.g. one VM's devices rather than every VM's; null from the function means "all".
     */
    SimpleProvider scope(BiFunction<CallContext, CimObjectPath, List<CimInstance>> s) {
        this.scope = s;
        return this;
    }

    SimpleProvider create(BiFunction<CallContext, CimInstance, CimObjectPath> c) {
        this.creator = c;
        return this;
    }

    SimpleProvider modify(Modifier m) {
        this.modifier = m;
        return this;
    }

    SimpleProvider delete(Deleter d) {
        this.deleter = d;
        return this;
    }

    SimpleProvider invoke(Invoker i) {
        this.invoker = i;
        return this;
    }

    @Override
    public String namespace() {
        return namespace;
    }

    @Override
    public String className() {
        return className;
    }

    @Override
    public List<CimInstance> enumerate(CallContext ctx) {
        return all.apply(ctx);
    }

    @Override
    public CimInstance get(CallContext ctx, CimObjectPath path) {
        if (getter == null) {
            return Provider.super.get(ctx, path);
        }
        CimInstance i = getter.apply(ctx, path);
        return i != null && i.path().equals(path) ? i : null;
    }

    @Override
    public List<CimInstance> referencing(CallContext ctx, CimObjectPath target) {
        List<CimInstance> candidates = scope == null ? null : scope.apply(ctx, target);
        if (candidates == null) {
            return Provider.super.referencing(ctx, target);
        }
        List<CimInstance> out = new ArrayList<>();
        for (CimInstance i : candidates) {
            for (CimProperty p : i.properties()) {
                if (p.type() == CimType.REFERENCE && target.equals(p.value())) {
                    out.add(i);
                    break;
                }
            }
        }
        return out;
    }

    @Override
    public CimObjectPath create(CallContext ctx, CimInstance instance) {
        return creator == null ? Provider.super.create(ctx, instance) : creator.apply(ctx, instance);
    }

    @Override
    public void modify(CallContext ctx, CimInstance modified, Set<String> propertyList) {
        if (modifier == null) {
            Provider.super.modify(ctx, modified, propertyList);
        } else {
            modifier.modify(ctx, modified, propertyList);
        }
    }

    @Override
    public void delete(CallContext ctx, CimObjectPath path) {
        if (deleter == null) {
            Provider.super.delete(ctx, path);
        } else {
            deleter.delete(ctx, path);
        }
    }

    @Override
    public MethodResult invoke(CallContext ctx, CimObjectPath target, CimClass.Method method, Map<String, Object> args) {
        return invoker == null ? Provider.super.invoke(ctx, target, method, args) : invoker.invoke(ctx, target, method, args);
    }
}
