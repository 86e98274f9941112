#!/usr/bin/python3
"""PyTorch's side of the model benchmarks: the workloads of ModelBenchmark and
ConsistentStepBenchmark in PyTorch eager float32, timed the way JMH times ours.

    /usr/bin/python3 bench/torch_models.py --json out.json [--workloads resnet18-32-b64,...] [--only forward,trainStep]

A workload is named <arch>-<size>-b<batch>, as on the Java side: at 224 torchvision's ImageNet
model (1000 classes, ImageNet normalisation); below, the engine's small-input configuration
(10 classes, normalisation mean 0.5 and std 0.25), built from torchvision's model with the same
replacements as the engine's models (see tools/fixtures/make_model_fixtures.py, whose outputs the
Java models reproduce). The normalisation is the model's first step on both sides.

Benchmarks, with JMH's names:
  ModelBenchmark.forward                 eval mode, no autograd
  ModelBenchmark.trainStep               forward, cross-entropy, backward, SGD step
  ConsistentStepBenchmark.consistentStep Eq. 6 of the paper with FGSM from the clean forward's input gradient
  ConsistentStepBenchmark.plainStep      the training step again, beside the consistent one

Timing as JMH's AverageTime: warm-up then measurement iterations; an iteration repeats the step
until at least --time seconds have passed (one step at least) and scores the mean time per step;
the result is the mean over the measurement iterations with JMH's error (half-width of the 99.9%
Student-t interval).
"""
import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from torch_reference import Normalized, build  # noqa: E402
from jmh_timing import measure  # noqa: E402

MODEL_WORKLOADS = ["alexnet-224-b8", "vgg16-224-b8", "resnet18-224-b8", "alexnet-64-b64", "vgg16-32-b64", "resnet18-32-b64"]
CONSISTENT_WORKLOADS = ["resnet18-32-b64", "resnet18-224-b8"]
IMAGENET_MEAN, IMAGENET_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
LR, MOMENTUM, WEIGHT_DECAY = 0.01, 0.9, 5e-4
# ConsistentLoss.Options.defaults(): α, β, ε in pixel units
ALPHA, BETA, EPS = 0.5, 1.0, 2.0 / 255

class Workload:
    def __init__(self, name):
        arch, size, batch = name.split("-")
        self.name, self.arch, self.size, self.batch = name, arch, int(size), int(batch[1:])
        classes = 1000 if self.size >= 224 else 10
        mean, std = (IMAGENET_MEAN, IMAGENET_STD) if self.size >= 224 else ([0.5] * 3, [0.25] * 3)
        torch.manual_seed(1)
        self.net = build(arch, 3, self.size, classes)
        self.model = Normalized(self.net, mean, std)
        g = torch.Generator().manual_seed(2)
        self.images = torch.rand(self.batch, 3, self.size, self.size, generator=g)
        self.labels = torch.randint(0, classes, (self.batch,), generator=g)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)

    def forward(self):
        self.model.eval()
        with torch.no_grad():
            self.model(self.images)

    def train_step(self):
        self.model.train()
        self.opt.zero_grad(set_to_none=True)
        F.cross_entropy(self.model(self.images), self.labels).backward()
        self.opt.step()

    def consistent_step(self):
        self.model.train()
        self.opt.zero_grad(set_to_none=True)
        captured = []
        hook = self.net.layer4.register_forward_hook(lambda mod, inp, out: captured.append(out))
        try:
            x = self.images.detach().requires_grad_()
            ce = F.cross_entropy(self.model(x), self.labels)
            (g,) = torch.autograd.grad(ce, x, retain_graph=True)
            x_adv = torch.clamp(x + EPS * torch.sign(g), 0, 1).detach()
            ce_adv = F.cross_entropy(self.model(x_adv), self.labels)
        finally:
            hook.remove()
        phi, phi_adv = captured
        loss = ALPHA * ce + (1 - ALPHA) * ce_adv + BETA * F.mse_loss(phi, phi_adv)
        loss.backward()
        self.opt.step()


BENCHMARKS = {
    "ModelBenchmark.forward": (MODEL_WORKLOADS, Workload.forward),
    "ModelBenchmark.trainStep": (MODEL_WORKLOADS, Workload.train_step),
    "ConsistentStepBenchmark.consistentStep": (CONSISTENT_WORKLOADS, Workload.consistent_step),
    "ConsistentStepBenchmark.plainStep": (CONSISTENT_WORKLOADS, Workload.train_step),
}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--iterations", type=int, default=4)
    p.add_argument("--time", type=float, default=2.0, help="least seconds per iteration")
    p.add_argument("--workloads", help="comma-separated subset of the workloads")
    p.add_argument("--only", help="comma-separated benchmark methods (forward, trainStep, consistentStep, plainStep)")
    p.add_argument("--json", help="write the results here as JSON")
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    wanted = set(a.workloads.split(",")) if a.workloads else None
    only = set(a.only.split(",")) if a.only else None
    info = {
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "threads": torch.get_num_threads(),
        "mkldnn_available": torch.backends.mkldnn.is_available(),
        "mkldnn_enabled": torch.backends.mkldnn.enabled,
        "cpu_capability": next((l.split(":", 1)[1].strip() for l in torch.__config__.show().splitlines()
                                if "CPU capability usage" in l), None),
        "parallel_info": torch.__config__.parallel_info(),
        "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS_")},
    }
    print(f"torch {info['torch']}, {info['threads']} threads, mkldnn available {info['mkldnn_available']}"
          f" (enabled {info['mkldnn_enabled']}), CPU capability {info['cpu_capability']}", file=sys.stderr)
    print(info["parallel_info"], file=sys.stderr)

    results = []
    # One model at a time, as JMH builds one per fork: the VGG-16 at 224 alone holds 1.1 GB with
    # its momentum buffers.
    names = list(dict.fromkeys(MODEL_WORKLOADS + CONSISTENT_WORKLOADS))
    for name in names:
        if wanted is not None and name not in wanted:
            continue
        todo = [(b, fn) for b, (ws, fn) in BENCHMARKS.items()
                if name in ws and (only is None or b.split(".")[1] in only)]
        if not todo:
            continue
        w = Workload(name)
        for bench, fn in todo:
            mean, err, scores = measure(lambda: fn(w), a.warmup, a.iterations, a.time)
            r = {"benchmark": bench, "workload": name, "batch": w.batch, "ms": mean * 1e3, "ms_error": err * 1e3,
                 "iterations_ms": [s * 1e3 for s in scores], "images_per_s": w.batch / mean}
            results.append(r)
            print(f"{bench:40s} {name:16s} {mean * 1e3:10.1f} ms ± {err * 1e3:.1f}  {w.batch / mean:8.1f} images/s",
                  file=sys.stderr, flush=True)
        del w

    out = {"info": info, "results": results}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=2)
    else:
        json.dump(out, sys.stdout, indent=2)
        print()


if __name__ == "__main__":
    main()
