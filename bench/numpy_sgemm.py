#!/usr/bin/env python3
"""numpy float32 matmul at the sizes of the engine's SGEMM benchmark, timed the way JMH times it.

Each size gets warm-up iterations and measurement iterations of about one second each; an
iteration repeats C = A @ B (into a preallocated C, as the engine's benchmark does) until its time
is up, and scores the mean time per call. The result is the mean over the measurement iterations,
with JMH's error: the half-width of the 99.9% Student-t interval.

The BLAS thread count is set before numpy loads (OPENBLAS_NUM_THREADS and friends) and again
through the library itself, so that it matches the engine's. Which OpenBLAS numpy uses, and the
core type it chose, is printed from threadpoolctl when it is installed, else from numpy's build
configuration and the library's own openblas_get_corename.
"""
import argparse
import json
import os
import sys

from jmh_timing import measure  # bench/, the script's folder, is on the path


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="512,1024,2048")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup", type=int, default=3, help="warm-up iterations per size")
    p.add_argument("--iterations", type=int, default=5, help="measurement iterations per size")
    p.add_argument("--time", type=float, default=1.0, help="seconds per iteration")
    p.add_argument("--json", help="write the results here as JSON")
    return p.parse_args()


def find_openblas():
    """(path, ctypes library) of the OpenBLAS numpy loaded, or (None, None)."""
    import ctypes
    try:
        with open("/proc/self/maps") as f:
            paths = sorted({line.split()[-1] for line in f if "openblas" in line.lower() and "/" in line})
    except OSError:
        return None, None
    for path in paths:
        try:
            return path, ctypes.CDLL(path)
        except OSError:
            continue
    return None, None


def blas_call(lib, names, restype):
    import ctypes
    for name in names:
        fn = getattr(lib, name, None)
        if fn is not None:
            fn.restype = restype
            return fn
    return None


def blas_info(threads):
    """What numpy's BLAS is and does, as a dict; also forces the thread count."""
    import ctypes
    import numpy as np
    info = {"numpy": np.__version__}
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
        threadpool_limits(threads, user_api="blas")
        info["threadpoolctl"] = threadpool_info()
    except ImportError:
        info["threadpoolctl"] = None
        cfg = np.show_config(mode="dicts")
        blas = cfg.get("Build Dependencies", {}).get("blas", {})
        info["build_blas"] = {k: blas.get(k) for k in ("name", "version", "openblas configuration")}
    path, lib = find_openblas()
    info["library"] = path
    if lib is not None:
        prefixes = ["openblas_", "scipy_openblas_"]
        suffixes = ["", "64_", "_64_"]
        def names(stem):
            return [p + stem + s for p in prefixes for s in suffixes]
        setter = blas_call(lib, names("set_num_threads"), None)
        if setter is not None:
            setter.argtypes = [ctypes.c_int]
            setter(threads)
        core = blas_call(lib, names("get_corename"), ctypes.c_char_p)
        config = blas_call(lib, names("get_config"), ctypes.c_char_p)
        nthreads = blas_call(lib, names("get_num_threads"), ctypes.c_int)
        info["corename"] = core().decode() if core else None
        info["config"] = config().decode().strip() if config else None
        info["threads"] = nthreads() if nthreads else None
    return info


def time_size(np, n, args):
    rng = np.random.default_rng(n)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    c = np.empty((n, n), dtype=np.float32)

    mean, err, scores = measure(lambda: np.matmul(a, b, out=c), args.warmup, args.iterations, args.time)
    flops = 2.0 * n * n * n
    return {"size": n, "ms": mean * 1e3, "ms_error": err * 1e3, "gflops": flops / mean / 1e9,
            "iterations_ms": [s * 1e3 for s in scores]}


def main():
    args = parse_args()
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import numpy as np
    info = blas_info(args.threads)
    info["env"] = {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS")}
    print("numpy", info["numpy"], "BLAS:", info.get("config"), "| core", info.get("corename"),
          "| threads", info.get("threads"), "| OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s"
          % (info["env"]["OPENBLAS_CORETYPE"], info["env"]["OPENBLAS_L2_SIZE"]))
    if info["threadpoolctl"] is not None:
        print("threadpoolctl:", json.dumps(info["threadpoolctl"]))
    else:
        print("threadpoolctl is not installed; numpy's build BLAS:", json.dumps(info.get("build_blas")))
    results = []
    print("| n | ms | GFLOP/s |")
    print("|---:|---:|---:|")
    for n in (int(s) for s in args.sizes.split(",")):
        r = time_size(np, n, args)
        results.append(r)
        print("| %d | %.3f ± %.3f | %.1f |" % (n, r["ms"], r["ms_error"], r["gflops"]))
        sys.stdout.flush()
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"info": info, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
