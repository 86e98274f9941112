"""Timing for the PyTorch and numpy sides of the benchmarks, the way JMH's AverageTime times ours:
warm-up iterations, then measurement iterations; an iteration repeats the call until at least
`seconds` have passed (one call at least) and scores the mean time per call; the result is the
mean over the measurement iterations with JMH's error (half-width of the 99.9% Student-t interval).
"""
import statistics
import time

# Student's t at 99.9% (two-sided), by degrees of freedom, as JMH reports its error
T_999 = {1: 636.62, 2: 31.599, 3: 12.924, 4: 8.610, 5: 6.869, 6: 5.959, 7: 5.408, 8: 5.041, 9: 4.781,
         10: 4.587, 15: 4.073, 20: 3.850, 30: 3.646}


def t_quantile(df):
    keys = [k for k in sorted(T_999) if k <= df]
    return T_999[keys[-1]] if keys else float("nan")


def error(scores):
    """JMH's error of the mean of `scores`, NaN for fewer than two."""
    if len(scores) < 2:
        return float("nan")
    return t_quantile(len(scores) - 1) * statistics.stdev(scores) / len(scores) ** 0.5


def iteration(call, seconds):
    n, t0 = 0, time.perf_counter()
    while True:
        call()
        n += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds:
            return elapsed / n


def measure(call, warmup, iterations, seconds):
    """(mean seconds per call, its error, the iterations' scores). One untimed call comes first, so
    that lazily made state (optimiser buffers, autograd's) exists even with no warm-up."""
    call()
    for _ in range(warmup):
        iteration(call, seconds)
    scores = [iteration(call, seconds) for _ in range(iterations)]
    return statistics.fmean(scores), error(scores), scores


def jmh_score(path, record):
    """(mean ms, its error or NaN, best iteration's ms) of one benchmark of JMH's JSON file `path`."""
    m = record["primaryMetric"]
    if m["scoreUnit"] != "ms/op":
        raise SystemExit(f"{path}: {record['benchmark']} is in {m['scoreUnit']}, expected ms/op")
    err = m["scoreError"]
    best = min(v for fork in m["rawData"] for v in fork)
    return m["score"], float(err) if err != "NaN" else float("nan"), best


def md_row(cells):
    """One row of a Markdown table."""
    return "| " + " | ".join(cells) + " |"
