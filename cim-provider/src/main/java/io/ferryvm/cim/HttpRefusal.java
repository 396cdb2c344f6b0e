package io.ferryvm.cim;

/**
 * A request refused at the HTTP level (DSP0200 section 7): status, the CIMError header value
 * ("header-mismatch", "request-not-well-formed", ...) and a message for the log and the body.
 */
final class HttpRefusal extends Exception {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final String cimError;

    HttpRefusal(int status, String cimError, String message) {
        super(message);
        this.status = status;
        this.cimError = cimError;
    }

    int status() {
        return status;
    }

    String cimError() {
        return cimError;
    }
}
