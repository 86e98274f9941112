package dev.advinterp.engine;

/** Where a tensor's storage lives. */
public enum Device {
    CPU,
    CUDA
}
