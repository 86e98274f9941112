#!/usr/bin/env python3
"""The table of bench/gpu-check.sh: the engine (dev.advinterp.bench.GpuCheck's JSON) beside PyTorch
(bench/torch_gpu.py's JSON), with ours/PyTorch, the conformance results and the machine.

    python3 bench/gpu_report.py --ours ours.json [--torch torch.json] [--line 'key=value' ...] [--note TEXT ...]

Standard library only. A side that is missing or failed shows as '—' with its error below the
table; ratios are of the means (images/s), and 'best/best' of the fastest steps.
"""
import argparse
import json
import os

ARCH_NAMES = {"alexnet": "AlexNet", "vgg16": "VGG-16", "vgg16_bn": "VGG-16-BN", "resnet18": "ResNet-18"}
PASSES = {"ModelBenchmark.forward": "forward", "ModelBenchmark.trainStep": "training step",
          "ConsistentStepBenchmark.consistentStep": "consistent-loss step (Eq. 6)",
          "ConsistentStepBenchmark.plainStep": "plain step beside it"}


def describe(workload):
    try:
        arch, size, batch = workload.split("-")
        return f"{ARCH_NAMES.get(arch, arch)} {size}×{size} b{batch[1:]}"
    except ValueError:
        return workload


def load(path):
    if not path or not os.path.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def fmt(v, digits=1):
    return "—" if v is None else f"{v:.{digits}f}"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ours", required=True)
    p.add_argument("--torch")
    p.add_argument("--line", action="append", default=[], help="KEY=VALUE: a line of the header (machine, conformance)")
    p.add_argument("--note", action="append", default=[])
    a = p.parse_args()
    ours, torch = load(a.ours), load(a.torch)
    errors = []
    if ours is None:
        errors.append(f"engine: no results ({a.ours} missing: GpuCheck did not finish)")
    if torch is None:
        errors.append(f"PyTorch: no results ({a.torch or 'not run'})")

    def rows_of(d, side):
        out = {}
        if d and "error" in d:
            errors.append(f"{side}: {d['error']}")
        for r in (d or {}).get("results", []):
            if "error" in r:
                errors.append(f"{side}: {r['benchmark']} {r['workload']}: {r['error']}")
            else:
                out[(r["benchmark"], r["workload"])] = r
        return out

    mine, theirs = rows_of(ours, "engine"), rows_of(torch, "PyTorch")
    keys = []
    for d in (ours, torch):
        for r in (d or {}).get("results", []):
            k = (r["benchmark"], r["workload"])
            if k not in keys and r["benchmark"] in PASSES:
                keys.append(k)

    lines = ["## GPU check", ""]
    for kv in a.line:
        k, _, v = kv.partition("=")
        lines.append(f"- {k}: {v}")
    if ours:
        lines.append(f"- engine: {ours['info'].get('device')}")
    if torch and "error" not in torch:
        i = torch["info"]
        lines.append(f"- PyTorch {i.get('torch')} on {i.get('device')} {i.get('gpu') or ''} (cuDNN {i.get('cudnn')}), "
                     f"TF32 matmul {i.get('tf32_matmul')}, TF32 cuDNN {i.get('tf32_cudnn')}, cudnn.benchmark {i.get('cudnn_benchmark')}")
    lines += ["", "| workload | pass | ours img/s | PyTorch img/s | ours/PyTorch | best/best | ours ms (steps) | PyTorch ms (steps) |",
              "|---|---|---:|---:|---:|---:|---:|---:|"]
    for k in keys:
        o, t = mine.get(k), theirs.get(k)
        ratio = o["images_per_s"] / t["images_per_s"] if o and t else None
        best = t["best_ms"] / o["best_ms"] if o and t else None
        o_ms = f"{o['ms']:.2f} ({o['iterations']})" if o else "—"
        t_ms = f"{t['ms']:.2f} ({t['iterations']})" if t else "—"
        lines.append(f"| {describe(k[1])} | {PASSES[k[0]]} | {fmt(o and o['images_per_s'])} | {fmt(t and t['images_per_s'])} "
                     f"| {fmt(ratio, 2)} | {fmt(best, 2)} | {o_ms} | {t_ms} |")

    def bw(d):
        out = {}
        for b in (d or {}).get("bandwidth", []):
            if "error" in b:
                errors.append(f"bandwidth {b['kernel']}: {b['error']}")
            else:
                out[b["kernel"]] = b
        return out

    bo, bt = bw(ours), bw(torch)
    if bo or bt:
        n = (next(iter(bo.values()), None) or next(iter(bt.values())))["elements"]
        lines += ["", f"Bandwidth on {n} floats (bytes read + written per call: FGSM step 16 per element, copy 8; best of 5 groups of 20 calls):", "",
                  "| kernel | ours ms | ours GB/s | PyTorch ms | PyTorch GB/s | ours/PyTorch |", "|---|---:|---:|---:|---:|---:|"]
        for kernel, label in (("fgsmStep", "FGSM step (ours: one fused kernel; PyTorch: eager ops)"), ("copy", "device-to-device copy")):
            o, t = bo.get(kernel), bt.get(kernel)
            lines.append(f"| {label} | {fmt(o and o['best_ms'], 4)} | {fmt(o and o['gb_per_s'])} | {fmt(t and t['best_ms'], 4)} "
                         f"| {fmt(t and t['gb_per_s'])} | {fmt(o['gb_per_s'] / t['gb_per_s'] if o and t else None, 2)} |")
        if "fgsmStep" in bo and "copy" in bo:
            lines.append("")
            lines.append(f"Ours: the FGSM step runs at {bo['fgsmStep']['gb_per_s'] / bo['copy']['gb_per_s'] * 100:.0f}% of the copy's bandwidth.")
    if errors:
        lines += ["", "Errors:"] + [f"- {e}" for e in errors]
    if a.note:
        lines += [""] + [f"- {n}" for n in a.note]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
