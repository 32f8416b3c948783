#!/usr/bin/env python3
"""Joins `discover bench --json` rows and bench/torch_bench.py (or
bench/torch_kernels.py) rows into one markdown table per target and shape.

    python3 bench/table.py discover.json torch.json [more discover.json ...]

Columns: the seed, the best kernel (when a session was benched), with
torch_kernels.py rows also the best kernel timed in PyTorch's harness,
PyTorch eager and torch.compile (graph replay), the memory floor (bytes
moved / measured copy bandwidth) and % of that floor reached by the
fastest discover kernel.
"""
import json
import sys


def main():
    discover = []
    for path in [sys.argv[1]] + sys.argv[3:]:
        discover += json.load(open(path))
    torch_rows = {(r["target"], r["rows"]): r for r in json.load(open(sys.argv[2]))}
    by_key = {}
    for r in discover:
        if not r.get("correct"):
            continue
        key = (r["target"], r["rows"])
        e = by_key.setdefault(key, {"bytes": r["bytes"], "bw": r["gb_per_s"] / r["pct_copy_bw"] * 100 if r.get("pct_copy_bw") else None})
        if r["kernel"] == "seed":
            e["seed"] = r["median_us"]
        else:
            e["best"] = min(e.get("best", float("inf")), r["median_us"])
            e["seed_in_session"] = r["seed_median_us"]
    harness = any("kernel_us" in r for r in torch_rows.values())
    print("| target | rows | seed us | best us |" + (" best, PyTorch's harness us |" if harness else "") +
          " eager us | compile us | floor us | % of floor |")
    print("|---|---:|---:|---:|" + ("---:|" if harness else "") + "---:|---:|---:|---:|")
    for (target, rows), e in sorted(by_key.items()):
        t = torch_rows.get((target, rows), {})
        floor = e["bytes"] / (e["bw"] * 1e3) if e["bw"] else None
        ours = min(v for v in (e.get("seed"), e.get("seed_in_session"), e.get("best")) if v)
        seed = e.get("seed", e.get("seed_in_session"))  # a seed bench, else the session bench's interleaved seed
        cells = [target, rows, seed, e.get("best")] + ([t.get("kernel_us")] if harness else []) + \
            [t.get("eager_us"), t.get("compile_us"), floor, 100 * floor / ours if floor else None]
        print("| " + " | ".join(fmt(c) for c in cells) + " |")


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.2f}"
    return str(v)


if __name__ == "__main__":
    main()
