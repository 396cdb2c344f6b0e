package io.ferryvm.chaos;

/** The harness's one error type: the machine or a node did not do what a chaos run needed (not a finding about Ferry). */
final class ChaosException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ChaosException(String message) {
        super(message);
    }

    ChaosException(String message, Throwable cause) {
        super(message, cause);
    }
}
