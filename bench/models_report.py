#!/usr/bin/python3
"""The Markdown table of bench/models.sh: images/s of the engine (JMH results) beside PyTorch's
(bench/torch_models.py results), their ratio and the targets.

    /usr/bin/python3 bench/models_report.py --jmh a.json [--jmh b.json ...] --torch t.json [...] [--note TEXT ...]

JMH's score is milliseconds per batch; images/s = batch / score. The ± columns are JMH's error
(half-width of the 99.9% interval) carried over to images/s; with four iterations it is wide, and
on a shared machine wider still, so a ratio near its target is read with the load averages.
"best/best" is the ratio of the two sides' fastest iterations: other work on the machine only
ever slows an iteration down, so it shows what the two would do on a quiet machine; the targets
are judged on the means, as JMH reports them.

Rounds (`bench/models.sh --rounds N`): files whose names end in `-r<K>.json` are round K of the
same benchmark, the two sides run in alternating order. Each round gives its own ratio; the table
shows their median (the target is judged on it) and every round's ratio, so that the spread
between runs minutes apart, which on a shared machine exceeds the spread within one, is in view.
The images/s columns are then the mean over the rounds with the lowest and highest round's mean
in parentheses.
"""
import argparse
import json
import math
import re
import statistics

from jmh_timing import jmh_score, md_row  # bench/, the script's folder, is on the path

ARCH_NAMES = {"alexnet": "AlexNet", "vgg16": "VGG-16", "vgg16_bn": "VGG-16-BN", "resnet18": "ResNet-18"}
# The order of the rows: bench/models.sh's, then any other workload in the order first seen.
ORDER = ["alexnet-224-b8", "vgg16-224-b8", "resnet18-224-b8", "alexnet-64-b64", "vgg16-32-b64", "resnet18-32-b64"]
MODEL_TARGET = 1.0
CONSISTENT_TARGET = 1.3  # the fused kernels and the single clean forward are the margin over PyTorch


def describe(workload):
    arch, size, batch = workload.split("-")
    return f"{ARCH_NAMES.get(arch, arch)} {size}×{size} b{batch[1:]}"


def batch_of(workload):
    return int(workload.split("-")[2][1:])


def round_of(path):
    """K of a file named ...-r<K>.json (bench/models.sh --rounds), else 1."""
    m = re.search(r"-r(\d+)\.json$", path)
    return int(m.group(1)) if m else 1


def load_jmh(paths):
    """{(method, workload): {round: (ms, ms_error, best ms)}} from JMH's JSON files (scores in ms/op)."""
    out = {}
    for p in paths:
        with open(p) as f:
            for r in json.load(f):
                method = ".".join(r["benchmark"].split(".")[-2:])
                out.setdefault((method, r["params"]["workload"]), {})[round_of(p)] = jmh_score(p, r)
    return out


def load_torch(paths):
    out, info = {}, None
    for p in paths:
        with open(p) as f:
            d = json.load(f)
        info = info or d["info"]
        for r in d["results"]:
            out.setdefault((r["benchmark"], r["workload"]), {})[round_of(p)] = (r["ms"], r["ms_error"], min(r["iterations_ms"]))
    return out, info


def pooled(rounds):
    """(ms, error, best ms) over the rounds: one round as measured; several, the mean of their means
    (no error: a few rounds make no interval worth printing) and the fastest iteration of any."""
    if len(rounds) == 1:
        return next(iter(rounds.values()))
    return statistics.fmean(r[0] for r in rounds.values()), math.nan, min(r[2] for r in rounds.values())


def images_per_second(batch, rounds):
    """The images/s cell: one round with JMH's error; several, their mean and range."""
    v = ips(batch, pooled(rounds))
    if len(rounds) == 1:
        return fmt(v)
    each = [batch * 1000.0 / r[0] for r in rounds.values()]
    return f"{v[0]:.1f} ({min(each):.1f}–{max(each):.1f})"


def ips(batch, ms_err):
    ms, err = ms_err[0], ms_err[1]
    v = batch * 1000.0 / ms
    return v, (v * err / ms if err == err else math.nan)


def fmt(v_err):
    v, e = v_err
    if e != e:
        return f"{v:.1f}"
    return f"{v:.1f} ± {e:.1f}"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--jmh", action="append", default=[])
    p.add_argument("--torch", action="append", default=[])
    p.add_argument("--note", action="append", default=[])
    p.add_argument("--machine", action="append", default=[], help="KEY=VALUE lines of the machine table")
    a = p.parse_args()
    ours = load_jmh(a.jmh)
    torch, info = load_torch(a.torch)
    global BY_ROUND
    BY_ROUND = any(len(r) > 1 for r in list(ours.values()) + list(torch.values()))

    print("## Machine and libraries\n")
    print("| | |\n|---|---|")
    for kv in a.machine:
        k, _, v = kv.partition("=")
        print(md_row([k, v]))
    if info:
        print(md_row(["PyTorch", f"{info['torch']} (torchvision {info['torchvision']}), {info['threads']} threads, "
                              f"CPU capability {info.get('cpu_capability')}, mkldnn available {info['mkldnn_available']}"
                              f" (enabled {info['mkldnn_enabled']})"]))
        parallel = "; ".join(l.strip() for l in info["parallel_info"].splitlines()
                             if l.strip() and ("num_threads" in l or "backend" in l or "MKL" in l))
        print(md_row(["PyTorch parallel", parallel.replace("|", "/")]))
    for n in a.note:
        print(md_row(["note", n]))

    missed = []
    workloads = workloads_of("ModelBenchmark", ours, torch)
    if workloads:
        print("\n## Models: images/s (forward: eval mode, no autograd; training step: forward, cross-entropy, "
              "backward, SGD momentum 0.9, weight decay 5e-4)\n")
        print(md_row(["workload", "pass", "ours img/s", "PyTorch img/s", ratio_heading(), "best/best", f"target ≥ {MODEL_TARGET:.1f}"]
                     + round_heading()))
        print("|---|---|---:|---:|---:|---:|:---:|" + round_rule())
        for w in workloads:
            for method, label in (("ModelBenchmark.forward", "forward"), ("ModelBenchmark.trainStep", "training step")):
                missed += table_row(ours, torch, method, w, label, MODEL_TARGET)

    cw = workloads_of("ConsistentStepBenchmark", ours, torch)
    if cw:
        print("\n## Consistent-loss step (Eq. 6: α = 0.5, β = 1, ε = 2/255, φ = layer4) beside the plain step: images/s\n")
        print(md_row(["workload", "step", "ours img/s", "PyTorch img/s", ratio_heading(), "best/best", "target"] + round_heading()))
        print("|---|---|---:|---:|---:|---:|:---:|" + round_rule())
        for w in cw:
            missed += table_row(ours, torch, "ConsistentStepBenchmark.consistentStep", w, "consistent", CONSISTENT_TARGET)
            missed += table_row(ours, torch, "ConsistentStepBenchmark.plainStep", w, "plain", MODEL_TARGET)
        print("\nTime of the consistent step as a multiple of the plain step's, same model and batch "
              "(the consistent step does two forwards, an input gradient and one backward through both):\n")
        print(md_row(["workload", "ours", "PyTorch"]))
        print("|---|---:|---:|")
        for w in cw:
            cells = [describe(w)]
            for side in (ours, torch):
                c, pl = side.get(("ConsistentStepBenchmark.consistentStep", w)), side.get(("ConsistentStepBenchmark.plainStep", w))
                cells.append(f"{pooled(c)[0] / pooled(pl)[0]:.2f}×" if c and pl else "—")
            print(md_row(cells))

    print()
    if missed:
        print(f"Targets missed: {len(missed)}.")
        for m in missed:
            print(f"- {m}")
    else:
        print("Every target met.")


def workloads_of(cls, *results):
    seen = []
    for r in results:
        for (method, w) in r:
            if method.startswith(cls + ".") and w not in seen:
                seen.append(w)
    return sorted(seen, key=lambda w: (ORDER.index(w) if w in ORDER else len(ORDER), seen.index(w)))


BY_ROUND = False  # whether any benchmark ran in several rounds: then the ratios are medians, and listed


def ratio_heading():
    return "ours/PyTorch (median of rounds)" if BY_ROUND else "ours/PyTorch"


def round_heading():
    return ["ours/PyTorch by round"] if BY_ROUND else []


def round_rule():
    return "---|" if BY_ROUND else ""


def table_row(ours, torch, method, w, label, target):
    b = batch_of(w)
    o_rounds, t_rounds = ours.get((method, w), {}), torch.get((method, w), {})
    o, t = (pooled(o_rounds) if o_rounds else None), (pooled(t_rounds) if t_rounds else None)
    # each round's ratio of the two sides' means (PyTorch's ms over ours: images/s of ours over theirs)
    by_round = [(k, t_rounds[k][0] / o_rounds[k][0]) for k in sorted(o_rounds) if k in t_rounds]
    ratio = statistics.median(r for _, r in by_round) if by_round else None
    best = t[2] / o[2] if o and t else None
    met = "—" if ratio is None else ("yes" if ratio >= target else "**no**")
    print(md_row([describe(w), label, images_per_second(b, o_rounds) if o else "—", images_per_second(b, t_rounds) if t else "—",
               f"{ratio:.2f}" if ratio is not None else "—", f"{best:.2f}" if best is not None else "—", f"≥ {target:.1f}: {met}"]
                 + ([", ".join(f"{r:.2f}" for _, r in by_round) or "—"] if BY_ROUND else [])))
    if ratio is not None and ratio < target:
        return [f"{describe(w)} {label}: {ratio:.2f}× PyTorch (target ≥ {target:.1f}×)"]
    return []


if __name__ == "__main__":
    main()
