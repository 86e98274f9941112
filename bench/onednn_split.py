"""The PyTorch half of bench/onednn_split.sh, and its report.

  onednn_split.py run WORKLOAD STEP STEPS     one PyTorch step (forward, train or consistent, as
                                             bench/torch_models.py defines them) run STEPS times
                                             after 2 warm-up steps, with oneDNN's verbose log on
  onednn_split.py report OURS.log TORCH.log STEPS --title T
                                             the Markdown table: ms per step in each oneDNN
                                             primitive kind and pass, each side's step time, and
                                             the rest (each side's own kernels and overhead)

Ours: the engine's bench.ModelProfile log, whose oneDNN lines cover its warm-up steps and the
STEPS measured ones; the executions after its line "ModelProfile: measuring STEPS steps" are
counted. PyTorch's log holds the measured steps only.
"""
import argparse
import os
import re
import sys
import time
from collections import defaultdict

WARMUP = 2


def primitive_ms(lines):
    """{(kind, pass): total ms} and the execution count, from oneDNN verbose lines of 2.x or 3.x."""
    execs = []
    for line in lines:
        if not line.startswith("onednn_verbose"):
            continue
        f = line.rstrip("\n").split(",")
        if "exec" not in f:
            continue
        i = f.index("exec")
        kind, prop = f[i + 2], f[i + 4]
        prop = {"forward_inference": "forward", "forward_training": "forward", "undef": ""}.get(prop, prop)
        execs.append(((kind, prop), float(f[-1])))
    return execs


def sums(execs):
    t = defaultdict(float)
    for k, ms in execs:
        t[k] += ms
    return t


def run(workload, step, steps):
    import torch
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import torch_models
    torch.set_num_threads(2)
    w = torch_models.Workload(workload)
    fn = {"forward": w.forward, "train": w.train_step, "consistent": w.consistent_step}[step]
    for _ in range(WARMUP):
        fn()
    with torch.backends.mkldnn.verbose(torch.backends.mkldnn.VERBOSE_ON):
        t0 = time.perf_counter()
        for _ in range(steps):
            fn()
        ms = (time.perf_counter() - t0) * 1e3 / steps
    sys.stdout.flush()
    print(f"step: {ms:.1f} ms per step (oneDNN verbose on), torch {torch.__version__}", flush=True)


def report(ours_log, torch_log, steps, title):
    ours_lines = open(ours_log).readlines()
    torch_lines = open(torch_log).readlines()
    marker = next((i for i, l in enumerate(ours_lines) if l.startswith("ModelProfile: measuring ")), None)
    if marker is None:
        sys.exit(f"onednn_split: {ours_log} has no line 'ModelProfile: measuring ...': not a ModelProfile log, or it failed")
    ours = {k: v / steps for k, v in sums(primitive_ms(ours_lines[marker:])).items()}
    theirs = {k: v / steps for k, v in sums(primitive_ms(torch_lines)).items()}
    ours_step = float(re.search(r"([0-9.]+) ms per step", "".join(l for l in ours_lines if not l.startswith("onednn"))).group(1))
    torch_step = float(re.search(r"step: ([0-9.]+) ms per step", "".join(torch_lines)).group(1))
    print(f"### oneDNN primitives and the rest, ms per step: {title}\n")
    print("| | ours | PyTorch | ours/PyTorch |\n|---|---:|---:|---:|")
    for k in sorted(set(ours) | set(theirs), key=lambda k: -(ours.get(k, 0) + theirs.get(k, 0))):
        a, b = ours.get(k, 0.0), theirs.get(k, 0.0)
        print(f"| oneDNN {' '.join(x for x in k if x)} | {a:.1f} | {b:.1f} | {a / b if b else float('nan'):.2f} |")
    a, b = sum(ours.values()), sum(theirs.values())
    print(f"| **oneDNN, all** | {a:.1f} | {b:.1f} | {a / b:.2f} |")
    print(f"| the rest of the step | {ours_step - a:.1f} | {torch_step - b:.1f} | {(ours_step - a) / (torch_step - b):.2f} |")
    print(f"| **step** | {ours_step:.1f} | {torch_step:.1f} | {ours_step / torch_step:.2f} |")
    print("\nThe engine's own kernels in the same run (its profiler, all measured steps):\n\n```")
    print("".join(l for l in ours_lines if not l.startswith("onednn") and not l.startswith("WARNING")).rstrip())
    print("```")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("workload")
    r.add_argument("step", choices=["forward", "train", "consistent"])
    r.add_argument("steps", type=int)
    q = sub.add_parser("report")
    q.add_argument("ours")
    q.add_argument("torch")
    q.add_argument("steps", type=int)
    q.add_argument("--title", default="")
    a = p.parse_args()
    if a.cmd == "run":
        run(a.workload, a.step, a.steps)
    else:
        report(a.ours, a.torch, a.steps, a.title)


if __name__ == "__main__":
    main()
