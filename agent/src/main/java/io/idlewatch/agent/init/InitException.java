package io.idlewatch.agent.init;

/** An OS call the init duties depend on failed; the message reads "<call> failed: <reason>". */
public final class InitException extends Exception {
    public InitException(String message) {
        super(message);
    }
}
