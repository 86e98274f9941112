package dev.advinterp.engine.backend;

import dev.advinterp.engine.Device;
import dev.advinterp.engine.DeviceMemory;
import dev.advinterp.engine.EngineConfig;
import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tensor;

import dev.advinterp.engine.backend.cpu.CpuBackend;
import dev.advinterp.engine.backend.cuda.CudaBackend;
import dev.advinterp.engine.backend.cuda.CudaUnavailableException;

import java.util.Optional;
import java.util.logging.Logger;

/**
 * The backends of this process: the CPU backend, the CUDA backend once opened, which of them
 * computes on a tensor ({@link #of}), and the choice of the root scope's device, on which the
 * tensor factories ({@code Tensor.of}, {@code zeros}, {@code rand}, ...) allocate outside any
 * scope that names another, and through them every model parameter, buffer, batch and optimiser
 * state: an op's outputs then follow its inputs' device.
 *
 * <p>A program that chooses its device (the command line's {@code --device}) calls
 * {@link #useDevice(DeviceChoice)} before it allocates anything; tensors made before keep the
 * device they were made on, and an op that mixes the two reports it. {@link #defaultBackend()}
 * applies the system property {@code advinterp.device} ({@link EngineConfig}) when no program chose.
 * With {@code advinterp.profile=true} the default backend is profiled ({@link Backend#startProfiling()}).
 */
public final class Backends {
    /** The system property that picks the default device ({@link EngineConfig#DEVICE_PROPERTY}). */
    public static final String DEVICE_PROPERTY = EngineConfig.DEVICE_PROPERTY;
    /** The CPU unless asked otherwise ({@link EngineConfig#DEFAULT_DEVICE}). */
    public static final String DEFAULT_DEVICE = EngineConfig.DEFAULT_DEVICE;

    private static final Logger LOG = Logger.getLogger(Backends.class.getName());

    private static CudaBackend cuda;

    private Backends() {
    }

    public static CpuBackend cpu() {
        return CpuBackend.instance();
    }

    /**
     * The backend that computes on {@code t}'s device: the one whose memory holds it, the CPU
     * backend for the host's memory.
     */
    public static Backend of(Tensor t) {
        return on(t.memory());
    }

    private static Backend on(DeviceMemory m) {
        if (m instanceof Backend backend) return backend;
        if (m.device() == Device.CPU) return cpu();
        throw new IllegalStateException("no backend computes on " + m.describe());
    }

    /**
     * The process's CUDA backend on GPU 0, opened at the first call and kept open for the life of
     * the process (the driver releases its context at exit).
     *
     * @throws CudaUnavailableException with the reason, when CUDA cannot be used here
     */
    public static synchronized CudaBackend cuda() {
        if (cuda == null) cuda = CudaBackend.open(0);
        return cuda;
    }

    /**
     * The backend for {@code choice}, and why: {@code auto} takes CUDA when
     * {@link CudaBackend#unavailableReason()} is empty and the backend opens, else the CPU with
     * the reason.
     *
     * @throws CudaUnavailableException for {@code cuda} when CUDA cannot be used (the message is the reason)
     */
    public static DeviceSelection select(DeviceChoice choice) {
        return switch (choice) {
            case CPU -> new DeviceSelection(cpu(), choice, "the CPU was asked for");
            case CUDA -> {
                CudaBackend gpu = cuda();
                yield new DeviceSelection(gpu, choice, "CUDA was asked for: " + gpu.describe());
            }
            case AUTO -> {
                Optional<String> reason = CudaBackend.unavailableReason();
                if (reason.isPresent()) {
                    yield new DeviceSelection(cpu(), choice, "CUDA unavailable: " + reason.get());
                }
                try {
                    CudaBackend gpu = cuda();
                    yield new DeviceSelection(gpu, choice, "a GPU is usable: " + gpu.describe());
                } catch (CudaUnavailableException e) {
                    yield new DeviceSelection(cpu(), choice, "CUDA unavailable: " + e.getMessage());
                }
            }
        };
    }

    /**
     * One line for reports ({@code advinterp doctor}, the GPU check): whether the CUDA backend opens
     * on GPU 0 and what it is, or why it cannot be used. Opens the backend when it can.
     */
    public static String cudaStatus() {
        Optional<String> reason = CudaBackend.unavailableReason();
        if (reason.isPresent()) return "cannot be used: " + reason.get();
        try {
            return "opens on GPU 0: " + cuda().describe();
        } catch (RuntimeException e) {
            // a failure after discovery succeeded (driver or library initialisation): say which
            return "CudaBackend.open(0) failed: " + e;
        }
    }

    /**
     * What can be said about CUDA on this machine without computing: the driver and GPUs, each
     * library found or not (and where it was looked for), and whether the backend opens on GPU 0
     * (opening it when it can).
     */
    public static Diagnostics cudaDiagnostics() {
        return CudaBackend.machineDiagnostics().and(Diagnostics.builder().line("CUDA backend", cudaStatus()).build());
    }

    /** {@link #select} and make the result the default backend; call before allocating anything. */
    public static DeviceSelection useDevice(DeviceChoice choice) {
        DeviceSelection s = select(choice);
        setDefault(s.backend());
        return s;
    }

    /**
     * Makes {@code backend} the root scope's device (see {@link Scope#useRootDevice}), profiled when
     * {@code advinterp.profile} is true.
     */
    public static synchronized void setDefault(Backend backend) {
        if (backend == null) throw new IllegalArgumentException("setDefault: the backend is null");
        if (EngineConfig.current().profile()) backend.startProfiling();
        Scope.useRootDevice(backend);
    }

    /**
     * The backend of the root scope's device, on which factories such as {@code Tensor.of}
     * allocate outside a scope that names another; when no program chose one, the one
     * {@code advinterp.device} asks for becomes it.
     *
     * @throws CudaUnavailableException when {@code advinterp.device=cuda} and CUDA cannot be used
     * @throws IllegalArgumentException when {@code advinterp.device} is not cpu, cuda or auto
     */
    public static Backend defaultBackend() {
        synchronized (Backends.class) {
            if (!Scope.rootDeviceChosen()) setDefault(fromProperty().backend());
        }
        return on(Scope.root().memory());
    }

    /** The selection the system property asks for; a failure is not remembered, so every use reports it. */
    private static DeviceSelection fromProperty() {
        String word = EngineConfig.current().device();
        DeviceChoice choice;
        try {
            choice = DeviceChoice.parse(word);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("system property " + DEVICE_PROPERTY + ": " + e.getMessage(), e);
        }
        try {
            DeviceSelection s = select(choice);
            if (choice != DeviceChoice.CPU) LOG.info(DEVICE_PROPERTY + "=" + word + ": " + s.describe());
            return s;
        } catch (CudaUnavailableException e) {
            throw new CudaUnavailableException("-D" + DEVICE_PROPERTY + "=" + word + " asks for CUDA, but it cannot be used here: "
                    + e.getMessage() + " (use -D" + DEVICE_PROPERTY + "=cpu or auto)", e);
        }
    }
}
