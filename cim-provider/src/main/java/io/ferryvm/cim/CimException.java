package io.ferryvm.cim;

/**
 * The cim-provider's one error type: a CIM status and a description that says what and where. It
 * becomes {@code <ERROR CODE="n" DESCRIPTION="...">} on the wire; backends throw it to refuse a
 * request (NOT_FOUND for an unknown VM, FAILED for an illegal state change, ...).
 */
public final class CimException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final CimStatus status;

    public CimException(CimStatus status, String description) {
        super(description);
        this.status = status;
    }

    public CimException(CimStatus status, String description, Throwable cause) {
        super(description, cause);
        this.status = status;
    }

    public CimStatus status() {
        return status;
    }

    /** What goes into DESCRIPTION: "CIM_ERR_NOT_FOUND: No such instance (...)". */
    public String description() {
        return status.cimName() + ": " + getMessage();
    }
}
