#!/usr/bin/python3
"""The Markdown table of bench/fused.sh: the engine's fused ops and elementwise kernels (JMH
FusedOpsBenchmark results) and PyTorch's eager sequences for the same formulas
(bench/torch_fused.py results), each as a bandwidth and as a fraction of its own side's copy.

    /usr/bin/python3 bench/fused_report.py --jmh a.json [--jmh b.json ...] --torch t.json [...] [--note TEXT ...]

Bandwidth = the bytes the formula must move (each operand read or written once, the counts of
ROWS below and of FusedOpsBenchmark's comment) / the mean time per call, in GB/s (10⁹ bytes).
The engine's copy bandwidth is the faster of its two copies of the same 64×3×224×224 tensor
(Backend.copy on one thread, and the same copy split over the engine's threads); PyTorch's is
dst.copy_(src), which PyTorch already splits over its threads. The issue's targets are on the
engine's fraction: the FGSM step and the SGD update at ≥ 50% of the copy's bandwidth, feature
matching forward and backward at ≥ 40%.
"""
import argparse
import json
import math

from jmh_timing import jmh_score, md_row  # bench/, the script's folder, is on the path

IMAGE = 64 * 3 * 224 * 224
RESNET18 = 11_689_512


class Row:
    def __init__(self, key, label, method, param, torch, per_element, elements, target=None):
        self.key, self.label, self.method, self.param, self.torch = key, label, method, param, torch
        self.per_element, self.elements, self.target = per_element, elements, target

    @property
    def bytes(self):
        return self.per_element * self.elements


# key, label, JMH method, JMH parameter (name, value) or None, torch_fused.py workload or None,
# bytes per element, elements, target fraction of the copy's bandwidth
ROWS = [
    Row("copy", "copy 64×3×224×224 (engine: Backend.copy, 1 thread)", "copy", None, "copy", 8, IMAGE),
    Row("copy-parallel", "copy 64×3×224×224 split over the engine's threads", "copyParallel", None, None, 8, IMAGE),
    Row("fgsm", "FGSM step 64×3×224×224, per-channel bounds", "fgsmStep", None, "fgsm", 16, IMAGE, 0.5),
    Row("sgd-resnet18", "SGD momentum, ResNet-18's 62 tensors", "sgdResNet18", None, "sgd-resnet18", 20, RESNET18, 0.5),
    Row("sgd-flat", "SGD momentum, one flat 11.69 M tensor", "sgdFlat", None, "sgd-flat", 20, RESNET18, 0.5),
    Row("fm-64x512", "featureMatching fwd+bwd [64, 512]", "featureMatching", ("features", "64x512"), "fm-64x512",
        16, 64 * 512, 0.4),
    Row("fm-64x512x7x7", "featureMatching fwd+bwd [64, 512, 7, 7]", "featureMatching", ("features", "64x512x7x7"),
        "fm-64x512x7x7", 16, 64 * 512 * 49, 0.4),
    Row("ce-64x1000", "softmax cross-entropy fwd+bwd [64, 1000]", "softmaxCrossEntropy", ("logits", "64x1000"),
        "ce-64x1000", 8, 64 * 1000),
    Row("ce-256x1000", "softmax cross-entropy fwd+bwd [256, 1000]", "softmaxCrossEntropy", ("logits", "256x1000"),
        "ce-256x1000", 8, 256 * 1000),
    Row("add-fresh", "add into a new tensor, 64×3×224×224", "addFresh", None, "add-fresh", 12, IMAGE),
    Row("add-into", "add into an existing tensor", "addInto", None, "add-into", 12, IMAGE),
    Row("relu-fresh", "ReLU into a new tensor, 64×3×224×224", "reluFresh", None, "relu-fresh", 8, IMAGE),
    Row("relu-into", "ReLU into an existing tensor", "reluInto", None, "relu-into", 8, IMAGE),
]


def load_jmh(paths):
    """{(method, param value or None): (ms, ms_error, best ms)} from JMH's JSON files (scores in ms/op)."""
    out = {}
    for p in paths:
        with open(p) as f:
            for r in json.load(f):
                method = r["benchmark"].split(".")[-1]
                params = r.get("params") or {}
                value = next(iter(params.values())) if params else None
                out[(method, value)] = jmh_score(p, r)
    return out


def load_torch(paths):
    out, info = {}, None
    for p in paths:
        with open(p) as f:
            d = json.load(f)
        info = info or d["info"]
        for r in d["results"]:
            out[r["workload"]] = r
    return out, info


def fmt_ms(ms, err):
    digits = 3 if ms < 10 else 1
    if err != err:
        return f"{ms:.{digits}f}"
    return f"{ms:.{digits}f} ± {err:.{digits}f}"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--jmh", action="append", default=[])
    p.add_argument("--torch", action="append", default=[])
    p.add_argument("--note", action="append", default=[])
    p.add_argument("--machine", action="append", default=[], help="KEY=VALUE lines of the machine table")
    a = p.parse_args()
    ours = load_jmh(a.jmh)
    theirs, info = load_torch(a.torch)

    # Both sides must count the same bytes for a row; torch_fused.py writes its own count.
    for r in ROWS:
        t = theirs.get(r.torch) if r.torch else None
        if t and (t["elements"], t["bytes_per_element"]) != (r.elements, r.per_element):
            raise SystemExit(f"{r.torch}: torch_fused.py counts {t['elements']} elements × {t['bytes_per_element']} B,"
                             f" this report {r.elements} × {r.per_element} B")

    def engine(r):
        return ours.get((r.method, r.param[1] if r.param else None))

    def gbps(r, ms):
        return r.bytes / (ms * 1e-3) / 1e9

    copies = [(gbps(r, engine(r)[0]), r) for r in ROWS if r.key.startswith("copy") and engine(r)]
    engine_copy, engine_copy_row = max(copies, key=lambda c: c[0]) if copies else (None, None)
    copy_row = next(r for r in ROWS if r.key == "copy")
    torch_copy = gbps(copy_row, theirs["copy"]["ms"]) if "copy" in theirs else None

    print("## Machine and libraries\n")
    print("| | |\n|---|---|")
    for kv in a.machine:
        k, _, v = kv.partition("=")
        print(md_row([k, v]))
    if info:
        print(md_row(["PyTorch", f"{info['torch']}, {info['threads']} threads, CPU capability {info.get('cpu_capability')}"]))
        parallel = "; ".join(l.strip() for l in info["parallel_info"].splitlines()
                             if l.strip() and ("num_threads" in l or "backend" in l))
        print(md_row(["PyTorch parallel", parallel.replace("|", "/")]))
    for n in a.note:
        print(md_row(["note", n]))

    print("\n## Fused ops and elementwise kernels beside a copy\n")
    if engine_copy_row:
        how = "Backend.copy on one thread" if engine_copy_row.key == "copy" else "the copy split over the engine's threads"
        line = f"Copy bandwidth, the denominator of \"of copy\": engine {engine_copy:.1f} GB/s ({how}, the faster of its two copies)"
        print(line + (f"; PyTorch {torch_copy:.1f} GB/s (dst.copy_(src))." if torch_copy else "."))
    print("GB/s = bytes the formula moves (B/el × elements, each operand once) / mean time per call; "
          "\"of copy\" = that over the same side's copy bandwidth; engine/PyTorch = PyTorch's time / the engine's.\n")
    print(md_row(["workload", "B/el", "MB", "engine ms", "engine GB/s", "of copy", "PyTorch ms", "PyTorch GB/s", "of copy",
               "engine/PyTorch", "target"]))
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|")
    missed = []
    for r in ROWS:
        o = engine(r)
        t = theirs.get(r.torch) if r.torch else None
        if not o and not t:
            continue
        cells = [r.label, str(r.per_element), f"{r.bytes / 1e6:.1f}"]
        if o:
            g = gbps(r, o[0])
            cells += [fmt_ms(o[0], o[1]), f"{g:.1f}", f"{100 * g / engine_copy:.0f}%" if engine_copy else "—"]
        else:
            cells += ["—"] * 3
        if t:
            g = gbps(r, t["ms"])
            cells += [fmt_ms(t["ms"], t["ms_error"]), f"{g:.1f}", f"{100 * g / torch_copy:.0f}%" if torch_copy else "—"]
        else:
            cells += ["—"] * 3
        cells.append(f"{t['ms'] / o[0]:.2f}×" if o and t else "—")
        if r.target is None:
            cells.append("")
        elif not (o and engine_copy):
            cells.append(f"≥ {100 * r.target:.0f}%: —")
        else:
            fraction = gbps(r, o[0]) / engine_copy
            met = fraction >= r.target
            cells.append(f"≥ {100 * r.target:.0f}%: {'met' if met else '**not met**'}")
            if not met:
                missed.append(f"{r.label}: {100 * fraction:.0f}% of the copy's bandwidth (target ≥ {100 * r.target:.0f}%)")
        print(md_row(cells))

    print()
    if missed:
        print(f"Targets not met: {len(missed)}.")
        for m in missed:
            print(f"- {m}")
    elif engine_copy:
        print("Every target met.")


if __name__ == "__main__":
    main()
