package io.ferryvm.cim;

/**
 * Told about every CIM request the server answered: the operation (an intrinsic name such as
 * "GetInstance", an extrinsic method name, or "refused" for requests refused at the HTTP level), its
 * outcome ("OK", a {@link CimStatus} name, or the refusal's CIMError/HTTP status) and how long it took.
 * Called on server threads: implementations must be thread-safe and quick (metrics).
 */
@FunctionalInterface
public interface CimRequestObserver {
    CimRequestObserver NONE = (operation, outcome, nanos) -> { };

    void answered(String operation, String outcome, long nanos);
}
