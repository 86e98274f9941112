"""The PyTorch half of bench/onednn_split.sh, and its report.

  onednn_split.py run WORKLOAD STEP STEPS     one PyTorch step (forward, train or consistent, as
                                             bench/torch_models.py defines them) run STEPS times
                                             after 2 warm-up steps, with oneDNN's verbose log on
  onednn_split.py report OURS.log TORCH.log STEPS --title T
                                             the Markdown tables: ms per step in each oneDNN
                                             primitive kind and pass, each side's step time, and
                                             the rest (each side's own kernels and overhead);
                                             then each convolution problem and pass on both
                                             sides with the implementation oneDNN chose

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
    """(kind, pass, implementation, problem, ms) of each execution in oneDNN verbose lines of 2.x
    or 3.x; the problem is the convolution's descriptor without its batch ('ic64oc64_ih56...')."""
    execs = []
    for line in lines:
        if not line.startswith("onednn_verbose"):
            continue
        f = line.rstrip("\n").split(",")
        if "exec" not in f:
            continue
        i = f.index("exec")
        kind, impl, prop = f[i + 2], f[i + 3], f[i + 4]
        prop = {"forward_inference": "forward", "forward_training": "forward", "undef": ""}.get(prop, prop)
        execs.append((kind, prop, impl, re.sub(r"^mb\d+_", "", f[-2]), float(f[-1])))
    return execs


def sums(execs):
    """{(kind, pass): total ms}."""
    t = defaultdict(float)
    for kind, prop, _, _, ms in execs:
        t[(kind, prop)] += ms
    return t


def convolutions(execs):
    """{(problem, pass): ([ms of each execution], implementations)} of the convolutions."""
    t = defaultdict(lambda: ([], set()))
    for kind, prop, impl, problem, ms in execs:
        if kind == "convolution":
            t[(problem, prop)][0].append(ms)
            t[(problem, prop)][1].add(impl)
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
    ours_execs, torch_execs = primitive_ms(ours_lines[marker:]), primitive_ms(torch_lines)
    ours = {k: v / steps for k, v in sums(ours_execs).items()}
    theirs = {k: v / steps for k, v in sums(torch_execs).items()}
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
    print("\nEach convolution problem and pass: ms per step (all the layers of that shape), the fastest single"
          " execution (which the machine's noise moves least) and the implementation oneDNN chose, on each side:\n")
    print("| problem | pass | calls a step | ours ms | PyTorch ms | ours/PyTorch | fastest call, ours | PyTorch | ours/PyTorch"
          " | ours runs | PyTorch runs |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
    oc, tc = convolutions(ours_execs), convolutions(torch_execs)
    for k in sorted(set(oc) | set(tc), key=lambda k: -sum(oc[k][0] if k in oc else []) - sum(tc[k][0] if k in tc else [])):
        (a, ai), (b, bi) = oc.get(k, ([], set())), tc.get(k, ([], set()))
        sa, sb = sum(a) / steps, sum(b) / steps
        fa, fb = min(a, default=float("nan")), min(b, default=float("nan"))
        calls = "/".join(dict.fromkeys(f"{len(x) / steps:g}" for x in (a, b)))
        print(f"| {k[0]} | {k[1]} | {calls} | {sa:.2f} | {sb:.2f} | {sa / sb if sb else float('nan'):.2f} | {fa:.2f} | {fb:.2f}"
              f" | {fa / fb if b else float('nan'):.2f} | {', '.join(sorted(ai))} | {', '.join(sorted(bi))} |")
    floor = [sum(len(x) * min(x) for x, _ in side.values()) / steps for side in (oc, tc)]
    print(f"\nEvery convolution at its shape's fastest call (calls × fastest, ms per step): ours {floor[0]:.1f},"
          f" PyTorch {floor[1]:.1f}, ours/PyTorch {floor[0] / floor[1]:.2f}.")
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
