package dev.tokenselect.engine.backend.cuda;

/**
 * The CUDA backend cannot run here: no NVIDIA driver or GPU, a build without kernels, or the device
 * out of memory. The message says what is missing and what to do instead.
 */
public class CudaUnavailableException extends RuntimeException {

    public CudaUnavailableException(String message) {
        super(message);
    }

    public CudaUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
