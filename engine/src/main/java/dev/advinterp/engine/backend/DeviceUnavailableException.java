package dev.advinterp.engine.backend;

/**
 * A device that was asked for cannot be used on this machine: no driver, no GPU, a missing library
 * or a failed initialisation. The message is the reason in words, ready to print, and says what
 * to do; {@link #device()} names the device. A program reports it without knowing which backend
 * refused.
 */
public class DeviceUnavailableException extends RuntimeException {
    private final String device;

    public DeviceUnavailableException(String device, String reason, Throwable cause) {
        super(reason, cause);
        this.device = device;
    }

    /** The device in words, as a person names it ("CUDA"). */
    public String device() {
        return device;
    }
}
