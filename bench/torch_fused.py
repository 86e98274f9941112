#!/usr/bin/python3
"""PyTorch's side of bench/fused.sh: the workloads of FusedOpsBenchmark in PyTorch eager float32,
each written as the eager sequence a PyTorch user would write for the same formula, timed the way
JMH times ours.

    /usr/bin/python3 bench/torch_fused.py --json out.json [--threads 2] [--workloads copy,fgsm,...]

Workloads (the names bench/fused_report.py joins on; bytes are the formula's compulsory traffic,
each operand read or written once, 4 bytes a float, the same count as the engine's):
  copy            dst.copy_(src) on 64×3×224×224                                 8 B/element
  fgsm            x.add_(α·g.sign()); torch.min(torch.max(x, x0 − ε), x0 + ε, out=x);
                  x.clamp_(lo, hi) with per-channel [1, 3, 1, 1] bounds           16 B/element
  sgd-resnet18    torch.optim.SGD(lr 0.01, momentum 0.9, weight decay 5e-4).step()
                  over torchvision ResNet-18's 62 parameters (11,689,512 floats)  20 B/element
  sgd-flat        the same on one flat tensor of 11,689,512 floats               20 B/element
  fm-64x512       F.mse_loss(a, b) and torch.autograd.grad(loss, (a, b)): the engine's
  fm-64x512x7x7   featureMatching, mean((a − b)²) with both gradients             16 B/element
  ce-64x1000      F.cross_entropy(logits, labels) and torch.autograd.grad(loss, logits)
  ce-256x1000                                                                     8 B/element
  add-fresh       torch.add(a, b) into a new tensor                               12 B/element
  add-into        torch.add(a, b, out=c)                                          12 B/element
  relu-fresh      torch.relu(x)                                                   8 B/element
  relu-into       torch.clamp(x, min=0, out=y) (torch.relu has no out=)           8 B/element

Timing as JMH's AverageTime: warm-up then measurement iterations; an iteration repeats the call
until at least --time seconds have passed (one call at least) and scores the mean time per call;
the result is the mean over the measurement iterations with JMH's error (half-width of the 99.9%
Student-t interval), and the iterations themselves (best = the fastest).
"""
import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F

from jmh_timing import measure  # bench/, the script's folder, is on the path

IMAGE = (64, 3, 224, 224)
RESNET18_PARAMS = 11_689_512
LR, MOMENTUM, WEIGHT_DECAY = 0.01, 0.9, 5e-4
EPS, ALPHA = 8 / 255, 2 / 255

def dims(name):
    return tuple(int(v) for v in name.split("x"))


def generator(seed):
    return torch.Generator().manual_seed(seed)


# Each maker builds the tensors once and returns (call, elements, bytes per element).

def make_copy():
    src, dst = torch.rand(IMAGE, generator=generator(1)), torch.zeros(IMAGE)
    return (lambda: dst.copy_(src)), src.numel(), 8


def make_fgsm():
    x0 = torch.rand(IMAGE, generator=generator(1))
    x, g = x0.clone(), torch.randn(IMAGE, generator=generator(2))
    lo, hi = torch.zeros(1, 3, 1, 1), torch.ones(1, 3, 1, 1)

    def step():
        x.add_(ALPHA * g.sign())
        torch.min(torch.max(x, x0 - EPS), x0 + EPS, out=x)
        x.clamp_(lo, hi)
    return step, x.numel(), 16


def sgd_over(params):
    gen = generator(4)
    for p in params:
        p.grad = torch.randn(p.shape, generator=gen) * 1e-2
    opt = torch.optim.SGD(params, lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    return opt.step, sum(p.numel() for p in params), 20


def make_sgd_resnet18():
    import torchvision
    torch.manual_seed(1)
    params = list(torchvision.models.resnet18().parameters())
    n = sum(p.numel() for p in params)
    if len(params) != 62 or n != RESNET18_PARAMS:
        raise SystemExit(f"torchvision's resnet18 has {len(params)} parameter tensors of {n} floats; expected 62 of {RESNET18_PARAMS}")
    return sgd_over(params)


def make_sgd_flat():
    return sgd_over([torch.nn.Parameter(torch.randn(RESNET18_PARAMS, generator=generator(3)) * 0.05)])


def make_fm(shape):
    def make():
        a = torch.randn(shape, generator=generator(5)).requires_grad_()
        b = torch.randn(shape, generator=generator(6)).requires_grad_()

        def call():
            loss = F.mse_loss(a, b)
            torch.autograd.grad(loss, (a, b))
        return call, a.numel(), 16
    return make


def make_ce(shape):
    def make():
        logits = (torch.randn(shape, generator=generator(7)) * 3).requires_grad_()
        labels = torch.randint(0, shape[1], (shape[0],), generator=generator(8))

        def call():
            loss = F.cross_entropy(logits, labels)
            torch.autograd.grad(loss, logits)
        return call, logits.numel(), 8
    return make


def make_add(into):
    def make():
        a, b = torch.randn(IMAGE, generator=generator(9)), torch.randn(IMAGE, generator=generator(10))
        if into:
            c = torch.empty(IMAGE)
            return (lambda: torch.add(a, b, out=c)), a.numel(), 12
        return (lambda: torch.add(a, b)), a.numel(), 12
    return make


def make_relu(into):
    def make():
        x = torch.randn(IMAGE, generator=generator(9))
        if into:
            y = torch.empty(IMAGE)
            return (lambda: torch.clamp(x, min=0.0, out=y)), x.numel(), 8
        return (lambda: torch.relu(x)), x.numel(), 8
    return make


WORKLOADS = {
    "copy": make_copy,
    "fgsm": make_fgsm,
    "sgd-resnet18": make_sgd_resnet18,
    "sgd-flat": make_sgd_flat,
    "fm-64x512": make_fm(dims("64x512")),
    "fm-64x512x7x7": make_fm(dims("64x512x7x7")),
    "ce-64x1000": make_ce(dims("64x1000")),
    "ce-256x1000": make_ce(dims("256x1000")),
    "add-fresh": make_add(False),
    "add-into": make_add(True),
    "relu-fresh": make_relu(False),
    "relu-into": make_relu(True),
}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--iterations", type=int, default=5)
    p.add_argument("--time", type=float, default=1.0, help="least seconds per iteration")
    p.add_argument("--workloads", help="comma-separated subset of: " + ", ".join(WORKLOADS))
    p.add_argument("--json", help="write the results here as JSON")
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    wanted = a.workloads.split(",") if a.workloads else list(WORKLOADS)
    unknown = [w for w in wanted if w not in WORKLOADS]
    if unknown:
        raise SystemExit(f"torch_fused.py: unknown workloads {unknown}; known: {', '.join(WORKLOADS)}")
    info = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpu_capability": next((l.split(":", 1)[1].strip() for l in torch.__config__.show().splitlines()
                                if "CPU capability usage" in l), None),
        "parallel_info": torch.__config__.parallel_info(),
    }
    print(f"torch {info['torch']}, {info['threads']} threads, CPU capability {info['cpu_capability']}", file=sys.stderr)

    results = []
    for name in wanted:
        call, elements, per_element = WORKLOADS[name]()
        mean, err, scores = measure(call, a.warmup, a.iterations, a.time)
        nbytes = elements * per_element
        results.append({"workload": name, "elements": elements, "bytes_per_element": per_element, "bytes": nbytes,
                        "ms": mean * 1e3, "ms_error": err * 1e3, "iterations_ms": [s * 1e3 for s in scores],
                        "gb_per_s": nbytes / mean / 1e9})
        print(f"{name:16s} {mean * 1e3:10.3f} ms ± {err * 1e3:.3f}  {nbytes / mean / 1e9:7.1f} GB/s",
              file=sys.stderr, flush=True)
        del call

    out = {"info": info, "results": results}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=2)
    else:
        json.dump(out, sys.stdout, indent=2)
        print()


if __name__ == "__main__":
    main()
