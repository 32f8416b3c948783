#!/usr/bin/env python3
"""Shows what torch.compile runs for rmsnorm at B=4096, D=4096 (float32):
Inductor's Triton source (TORCH_LOGS=output_code, on stderr) and, from a
profiler trace, each kernel's grid, block, registers and time. Run with
TRITON_CACHE_DIR set to keep the PTX. Experiment for issue #5."""
import json
import sys

import torch
from torch.profiler import ProfilerActivity, profile

torch._logging.set_logs(output_code=True)
B = int(sys.argv[1]) if len(sys.argv) > 1 else 4096
D = int(sys.argv[2]) if len(sys.argv) > 2 else 4096


def rmsnorm(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * w


x = torch.randn(B, D, device="cuda")
w = torch.randn(D, device="cuda")
f = torch.compile(rmsnorm, dynamic=False)
for _ in range(3):
    f(x, w)
torch.cuda.synchronize()
with profile(activities=[ProfilerActivity.CUDA]) as prof:
    for _ in range(5):
        f(x, w)
    torch.cuda.synchronize()
prof.export_chrome_trace("/tmp/inductor_trace.json")
for e in json.load(open("/tmp/inductor_trace.json"))["traceEvents"]:
    if e.get("cat") == "kernel":
        a = e.get("args", {})
        print(json.dumps({"name": e["name"], "us": e.get("dur"), "grid": a.get("grid"), "block": a.get("block"),
                          "registers": a.get("registers per thread"), "shared": a.get("shared memory"),
                          "occupancy": a.get("est. achieved occupancy %")}))
