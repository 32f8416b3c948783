#!/usr/bin/env python3
"""Times the discover targets in PyTorch eager and torch.compile, as graph
replay (triton.testing.do_bench_cudagraph), at the shapes discover uses.

    discover list --json > targets.json
    python3 bench/torch_bench.py targets.json > torch.json

Each row: target, rows, eager_us, compile_us (medians of do_bench_cudagraph).
Run it on the machine whose GPU discover benched, so both land in one table
(bench/table.py).
"""
import json
import sys

import torch
import torch.nn.functional as F
import triton.testing

EPS = 1e-6


def swiglu(gate, up):
    return F.silu(gate) * up


def rmsnorm(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * w


def moe_combine(expert_outputs, weights):
    return (weights.unsqueeze(-1) * expert_outputs).sum(1)


def topk_gating(logits, k):
    vals, idx = torch.topk(logits, k, dim=-1)
    return torch.softmax(vals, dim=-1), idx


def layer_norm(z, w, b):
    mu = z.mean(-1, keepdim=True)
    var = z.var(-1, unbiased=False, keepdim=True)
    return w * (z - mu) / torch.sqrt(var + EPS) + b, (z - mu) / torch.sqrt(var + EPS), torch.sqrt(var + EPS)


def ttt_linear_decode(xq, xk, xv, lr, token_idx, W, b, W_grad, b_grad, ln_w, ln_b):
    F_ = xq.shape[-1]
    z = torch.bmm(xk.unsqueeze(1), W).squeeze(1) + b
    target = xv - xk
    y, zh, s = layer_norm(z, ln_w, ln_b)
    g = y - target
    gh = g * ln_w
    dz = (F_ * gh - gh.sum(-1, keepdim=True) - zh * (gh * zh).sum(-1, keepdim=True)) / (s * F_)
    d = lr.unsqueeze(-1) * dz
    W_grad2 = W_grad + xk.unsqueeze(2) * d.unsqueeze(1)
    b_grad2 = b_grad + d
    W2 = W - token_idx * W_grad2
    b2 = b - token_idx * b_grad2
    z2 = torch.bmm(xq.unsqueeze(1), W2).squeeze(1) + b2
    out = xq + layer_norm(z2, ln_w, ln_b)[0]
    return out, W2, b2, W_grad2, b_grad2


def make(t, rows):
    dims = t["dims"]
    dev = "cuda"
    r = lambda *s: torch.randn(*s, device=dev, dtype=torch.float32)
    kind = t["kernel"]
    if kind == "swiglu":
        return swiglu, (r(rows, dims["D"]), r(rows, dims["D"]))
    if kind == "rmsnorm":
        return rmsnorm, (r(rows, dims["D"]), r(dims["D"]))
    if kind == "moe_combine":
        return moe_combine, (r(rows, dims["K"], dims["D"]), r(rows, dims["K"]))
    if kind == "topk_gating":
        k = dims["K"]
        return (lambda x: topk_gating(x, k)), (r(rows, dims["E"]),)
    if kind == "ttt_linear_decode":
        f = dims["F"]
        args = (r(rows, f), r(rows, f), r(rows, f), torch.rand(rows, device=dev) * 0.1,
                torch.tensor(0.5, device=dev), r(rows, f, f) * 0.02, r(rows, f) * 0.02,
                r(rows, f, f) * 0.02, r(rows, f) * 0.02, 1 + 0.1 * r(rows, f), 0.1 * r(rows, f))
        return ttt_linear_decode, args
    raise ValueError(kind)


def main():
    targets = json.load(open(sys.argv[1]))
    rows_out = []
    for t in targets:
        for rows in t["shapes"]:
            fn, args = make(t, rows)
            compiled = torch.compile(fn, dynamic=False)  # one static kernel per shape, as a decode loop would use
            eager_us = triton.testing.do_bench_cudagraph(lambda: fn(*args), rep=200) * 1e3
            compiled(*args)  # compile outside the timing
            compile_us = triton.testing.do_bench_cudagraph(lambda: compiled(*args), rep=200) * 1e3
            row = {"target": t["name"], "rows": rows, "eager_us": eager_us, "compile_us": compile_us}
            print(json.dumps(row), file=sys.stderr, flush=True)
            rows_out.append(row)
    json.dump(rows_out, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
