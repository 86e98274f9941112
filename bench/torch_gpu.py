#!/usr/bin/env python3
"""PyTorch's side of bench/gpu-check.sh: the workloads of dev.advinterp.bench.GpuCheck in PyTorch
eager float32 on a GPU, timed the same way, so the table can give ours/PyTorch.

    python3 bench/torch_gpu.py --json out.json [--device cuda|cpu] [--workloads alexnet-224-b64,...]
        [--consistent resnet18-224-b64] [--warmup 3] [--min-iterations 5] [--max-iterations 30] [--seconds 3]
        [--elements 67108864]

The models, batches, optimiser and consistent loss are bench/torch_models.py's (the same as the
engine's ModelBenchmark and ConsistentStepBenchmark), moved to the device. Float32 throughout:
TF32 is off for matrix products and cuDNN (the engine's CUDA backend uses none), and
cudnn.benchmark is on, so PyTorch gets its fastest algorithm for each shape.

Timing as GpuCheck's: --warmup steps, then steps each bracketed by torch.cuda.synchronize()
until both --min-iterations and --seconds are reached, or --max-iterations; the mean and the best
step are reported. Bandwidth: the FGSM step as PyTorch computes it (x + α·sign(g) clipped to the
ε-ball around x0 and to [0, 1]: several kernels) and a device-to-device copy, each in 5 groups of
20 calls between synchronisations, best group; bytes counted as the engine's fused kernel moves
them (16 per element for the FGSM step, 8 for the copy), so the two sides' GB/s compare times.
--device cpu runs everything on the CPU (the plumbing check of gpu-check.sh --dry-run).
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

import torch_models  # noqa: E402


def synchronizer(device):
    return torch.cuda.synchronize if device.type == "cuda" else (lambda: None)


def time_steps(step, sync, warmup, min_iterations, max_iterations, seconds):
    for _ in range(warmup):
        step()
    sync()
    times, start = [], time.perf_counter()
    while len(times) < max_iterations and (len(times) < min_iterations or time.perf_counter() - start < seconds):
        t0 = time.perf_counter()
        step()
        sync()
        times.append((time.perf_counter() - t0) * 1e3)
    return sum(times) / len(times), min(times), len(times)


def on_device(w, device):
    """A torch_models.Workload with its model, images and labels on the device (the optimiser keeps the same parameters)."""
    w.model.to(device)
    w.images = w.images.to(device)
    w.labels = w.labels.to(device)
    return w


def group_timed(op, sync, calls=20, groups=5):
    op()
    sync()
    per_call = []
    for _ in range(groups):
        t0 = time.perf_counter()
        for _ in range(calls):
            op()
        sync()
        per_call.append((time.perf_counter() - t0) * 1e3 / calls)
    return sum(per_call) / groups, min(per_call), calls * groups


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    p.add_argument("--workloads", default="alexnet-224-b64,vgg16-224-b64,resnet18-224-b64")
    p.add_argument("--consistent", default="resnet18-224-b64")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--min-iterations", type=int, default=5)
    p.add_argument("--max-iterations", type=int, default=30)
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--elements", type=int, default=1 << 26)
    p.add_argument("--json", required=True)
    a = p.parse_args()

    if a.device == "cuda" and not torch.cuda.is_available():
        reason = f"torch {torch.__version__} sees no CUDA device"
        with open(a.json, "w") as f:  # the report reads the reason from here
            json.dump({"info": {"torch": torch.__version__, "device": "cuda refused"}, "results": [], "error": reason}, f)
        raise SystemExit("torch_gpu.py: " + reason)
    device = torch.device(a.device)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    sync = synchronizer(device)
    info = {"torch": torch.__version__, "device": a.device,
            "gpu": torch.cuda.get_device_name(0) if a.device == "cuda" else None,
            "cudnn": torch.backends.cudnn.version() if a.device == "cuda" else None,
            "tf32_matmul": torch.backends.cuda.matmul.allow_tf32, "tf32_cudnn": torch.backends.cudnn.allow_tf32,
            "cudnn_benchmark": torch.backends.cudnn.benchmark,
            "warmup": a.warmup, "min_iterations": a.min_iterations, "seconds": a.seconds}
    print(f"torch_gpu.py: torch {info['torch']} on {a.device} {info['gpu'] or ''}, TF32 off, cudnn.benchmark on",
          file=sys.stderr, flush=True)

    results = []

    def run(bench, name, fn):
        try:
            w = on_device(torch_models.Workload(name), device)
            for method, step in fn(w):
                mean, best, n = time_steps(step, sync, a.warmup, a.min_iterations, a.max_iterations, a.seconds)
                results.append({"benchmark": f"{bench}.{method}", "workload": name, "batch": w.batch, "ms": mean,
                                 "best_ms": best, "iterations": n, "images_per_s": w.batch / (mean * 1e-3)})
                print(f"torch_gpu.py: {bench}.{method} {name}: {mean:.2f} ms mean, {best:.2f} best, {n} iterations,"
                      f" {w.batch / (mean * 1e-3):.1f} images/s", file=sys.stderr, flush=True)
            del w
        except (RuntimeError, ValueError) as e:  # out of memory, a shape the build rejects: report, go on
            print(f"torch_gpu.py: {bench} {name} failed: {e}", file=sys.stderr, flush=True)
            results.append({"benchmark": bench, "workload": name, "error": str(e)})
        if device.type == "cuda":
            torch.cuda.empty_cache()

    for name in filter(None, a.workloads.split(",")):
        run("ModelBenchmark", name, lambda w: [("forward", w.forward), ("trainStep", w.train_step)])
    for name in filter(None, a.consistent.split(",")):
        run("ConsistentStepBenchmark", name, lambda w: [("consistentStep", w.consistent_step), ("plainStep", w.train_step)])

    bandwidth = []
    n = a.elements
    g = torch.Generator(device="cpu").manual_seed(5)
    x0 = torch.rand(n, generator=g).to(device)
    grad = torch.randn(n, generator=g).to(device)
    x = x0.clone()
    dst = torch.empty_like(x0)
    alpha, eps = 1.0 / 255, 2.0 / 255

    def fgsm():
        # what an FGSM step costs in PyTorch eager: the bounds of the ε-ball are recomputed each step, as in an attack loop
        torch.clamp(x + alpha * torch.sign(grad), torch.clamp(x0 - eps, min=0.0), torch.clamp(x0 + eps, max=1.0), out=x)

    for kernel, bytes_per, op in [("fgsmStep", 16, fgsm), ("copy", 8, lambda: dst.copy_(x0))]:
        mean, best, calls = group_timed(op, sync)
        gbps = bytes_per * n / (best * 1e-3) / 1e9
        bandwidth.append({"kernel": kernel, "elements": n, "bytes_per_call": bytes_per * n, "ms": mean, "best_ms": best,
                          "gb_per_s": gbps})
        print(f"torch_gpu.py: {kernel} of {n} floats: {best:.4f} ms best, {gbps:.1f} GB/s", file=sys.stderr, flush=True)

    with open(a.json, "w") as f:
        json.dump({"info": info, "results": results, "bandwidth": bandwidth}, f, indent=2)


if __name__ == "__main__":
    main()
