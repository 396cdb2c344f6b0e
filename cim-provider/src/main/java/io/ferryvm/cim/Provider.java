package io.ferryvm.cim;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Serves the instances of one concrete class in one namespace, computed from the live backend on each
 * call. Association providers serve instances whose reference properties link other instances; the
 * dispatcher derives Associators/References from them. Everything not overridden is refused the way
 * DSP0200 says (NOT_SUPPORTED, METHOD_NOT_AVAILABLE).
 */
interface Provider {
    String namespace();

    String className();

    /** Every instance, with its path. */
    List<CimInstance> enumerate(CallContext ctx);

    /** The instance at path (keys already checked against the class), or null. */
    default CimInstance get(CallContext ctx, CimObjectPath path) {
        for (CimInstance i : enumerate(ctx)) {
            if (i.path().equals(path)) {
                return i;
            }
        }
        return null;
    }

    /** Association instances with a reference equal to target (only called on association providers). */
    default List<CimInstance> referencing(CallContext ctx, CimObjectPath target) {
        List<CimInstance> out = new ArrayList<>();
        for (CimInstance i : enumerate(ctx)) {
            for (CimProperty p : i.properties()) {
                if (p.type() == CimType.REFERENCE && target.equals(p.value())) {
                    out.add(i);
                    break;
                }
            }
        }
        return out;
    }

    default CimObjectPath create(CallContext ctx, CimInstance instance) {
        throw new CimException(CimStatus.NOT_SUPPORTED, "instances of " + className() + " cannot be created");
    }

    /** Applies the properties of modified named by propertyList (all of modified's when null). */
    default void modify(CallContext ctx, CimInstance modified, Set<String> propertyList) {
        throw new CimException(CimStatus.NOT_SUPPORTED, "instances of " + className() + " cannot be modified");
    }

    default void delete(CallContext ctx, CimObjectPath path) {
        throw new CimException(CimStatus.NOT_SUPPORTED, "instances of " + className() + " cannot be deleted");
    }

    /** An extrinsic method on an instance (target has keys) or the class; args are typed IN parameters. */
    default MethodResult invoke(CallContext ctx, CimObjectPath target, CimClass.Method method, Map<String, Object> args) {
        throw new CimException(CimStatus.METHOD_NOT_AVAILABLE, method.name() + " is not available on " + className());
    }
}
