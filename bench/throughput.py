#!/usr/bin/env python3
"""Evaluation throughput of sessions: candidates per minute (generator time
excluded) and where an evaluation's time goes.

    python3 bench/throughput.py SESSION.json [...]
"""
import json
import sys


def nodes(n):
    yield n
    for c in n.get("children", []):
        yield from nodes(c)


for path in sys.argv[1:]:
    s = json.load(open(path))
    evals = [n["eval_result"] for n in nodes(s["tree_data"]["root"])
             if n.get("eval_result") and n["eval_result"].get("eval_seconds")]
    if not evals:
        print(path, "no evaluations")
        continue
    total = sum(e["eval_seconds"] for e in evals)
    phase = {p: sum(e.get(p + "_seconds", 0) for e in evals) / len(evals) for p in ("compile", "check", "timing")}
    fails = sum(1 for e in evals if not e.get("correct"))
    print("%s: %d evaluations (%d failed), %.3f s each = %.1f candidates/min; compile %.3f s, checks %.3f s, timing %.3f s"
          % (s["metadata"]["target_name"], len(evals), fails, total / len(evals), 60 * len(evals) / total,
             phase["compile"], phase["check"], phase["timing"]))
