#!/usr/bin/env python3
"""Times discover's exported CUDA kernels in PyTorch's own harness
(triton.testing.do_bench_cudagraph, as bench/torch_bench.py times eager and
torch.compile), after checking each one's outputs against PyTorch's at the
shape. So a kernel and torch.compile are compared by the same clock, and
the export manifest is shown to be enough to run a kernel without discover.

    discover list --json > targets.json
    discover export SESSION -o kernels/TARGET.cu      # one per target
    python3 bench/torch_kernels.py targets.json kernels/*.cu > torch_kernels.json

With --rows-from BENCH.json (the output of `discover bench --per-shape
--json`), each kernel is timed only at the shapes where that bench row
names its node: the per-shape winners exported with `discover export --node`.
With --rounds N, each shape is timed in N rounds, each on fresh inputs at a
new address, every kernel and torch.compile once per round in rotating
order; the row gives medians over rounds and each round's times and
kernel/torch.compile ratio (kernel_us_rounds, compile_us_rounds,
ratio_rounds). --rep MS is the time each do_bench_cudagraph call aims for
(default 200; it replays its graph ten times).

Each row: target, rows, kernel_us, eager_us, compile_us, max_err (the
largest |kernel - torch| over |torch|'s largest value, per output).
NVRTC and the driver are loaded with ctypes; the kernel runs in PyTorch's
context and on its current stream, so CUDA graph capture records it.
"""
import argparse
import ctypes
import glob
import json
import os
import statistics
import sys

import torch
import triton.testing

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_bench import make  # noqa: E402  the same inputs and references


def load_nvrtc():
    names = ["libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2"]
    for site in sys.path:  # PyTorch's pip wheels bring their own NVRTC
        names += sorted(glob.glob(os.path.join(site, "nvidia", "cu*", "lib", "libnvrtc.so*")))
        names += sorted(glob.glob(os.path.join(site, "nvidia", "cuda_nvrtc", "lib", "libnvrtc.so*")))
    for n in names:
        if "builtins" in n:
            continue
        try:
            return ctypes.CDLL(n)
        except OSError:
            pass
    raise SystemExit("NVRTC not found (tried %s)" % ", ".join(names))


NVRTC = load_nvrtc()
CU = ctypes.CDLL("libcuda.so.1")


def check(what, r):
    if r != 0:
        raise RuntimeError("%s failed: %d" % (what, r))


def compile_cubin(source, entry, options):
    prog = ctypes.c_void_p()
    check("nvrtcCreateProgram", NVRTC.nvrtcCreateProgram(ctypes.byref(prog), source.encode(), (entry + ".cu").encode(), 0, None, None))
    opts = (ctypes.c_char_p * len(options))(*[o.encode() for o in options])
    r = NVRTC.nvrtcCompileProgram(prog, len(options), opts)
    if r != 0:
        size = ctypes.c_size_t()
        NVRTC.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
        log = ctypes.create_string_buffer(size.value)
        NVRTC.nvrtcGetProgramLog(prog, log)
        raise RuntimeError("%s does not compile: %s" % (entry, log.value.decode(errors="replace")))
    size = ctypes.c_size_t()
    check("nvrtcGetCUBINSize", NVRTC.nvrtcGetCUBINSize(prog, ctypes.byref(size)))
    image = ctypes.create_string_buffer(size.value)
    check("nvrtcGetCUBIN", NVRTC.nvrtcGetCUBIN(prog, image))
    NVRTC.nvrtcDestroyProgram(ctypes.byref(prog))
    return image


class Kernel:
    """An exported kernel, loaded into PyTorch's current context."""

    def __init__(self, path):
        self.m = json.load(open(path + ".json"))
        major, minor = torch.cuda.get_device_capability()
        options = ["--gpu-architecture=sm_%d%d" % (major, minor)]
        options += [f for f in self.m["compiler_flags"] if not f.startswith("-arch")]
        options += ["-D%s=%s" % (d["name"], d["value"]) for d in self.m["defines"]]
        self.image = compile_cubin(open(path).read(), self.m["entry"], options)
        self.module, self.fn = ctypes.c_void_p(), ctypes.c_void_p()
        check("cuModuleLoadData", CU.cuModuleLoadData(ctypes.byref(self.module), self.image))
        check("cuModuleGetFunction", CU.cuModuleGetFunction(ctypes.byref(self.fn), self.module, self.m["entry"].encode()))

    def vars(self, rows):
        v = {d["name"]: d["value"] for d in self.m["dims"]}
        v[self.m["row_var"]] = rows
        return v

    def outputs(self, rows):
        v = self.vars(rows)
        dtypes = {"float32": torch.float32, "uint32": torch.int32, "int32": torch.int32}
        return [torch.empty([int(eval(s, {}, v)) for s in a["shape"]], device="cuda", dtype=dtypes[a["dtype"]])
                for a in self.m["args"] if a.get("role") == "output"]

    def launcher(self, rows, inputs, outputs):
        """A function that launches the kernel once on the current stream."""
        shape = next(s for s in self.m["shapes"] if s["rows"] == rows)
        local = self.m["launch"]["local"]
        grid = [g // l for g, l in zip(shape["global"], local)]
        ins, outs, values = iter(inputs), iter(outputs), []
        for a in self.m["args"]:
            if a["kind"] == "scalar":
                values.append(ctypes.c_uint32(int(eval(a["value"], {}, self.vars(rows)))))
            else:
                t = next(ins) if a["role"] == "input" else next(outs)
                values.append(ctypes.c_uint64(t.data_ptr()))
        params = (ctypes.c_void_p * len(values))(*[ctypes.cast(ctypes.byref(v), ctypes.c_void_p) for v in values])

        def launch():
            stream = ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)
            check("cuLaunchKernel", CU.cuLaunchKernel(self.fn, grid[0], grid[1], grid[2], local[0], local[1], local[2],
                                                      0, stream, params, None))
        launch.keep = (values, params, inputs, outputs)  # alive as long as the launcher
        return launch


def max_err(got, want):
    want = want.reshape(got.shape)
    if not got.dtype.is_floating_point:
        return float((got.long() != want.long()).sum())  # integer outputs: mismatches
    return float((got - want).abs().max() / want.abs().max().clamp_min(1e-30))


def place(args, rnd):
    """The same values at a new address each round: input placement can move
    a memory-bound kernel's time by a few percent, so a comparison made at one
    placement only can favour either side."""
    off = rnd * ((1 << 20) + 4096) // 4  # floats: 1 MiB + 4 KiB more each round
    out = []
    for a in args:
        if torch.is_tensor(a) and a.dim() > 0:
            buf = torch.empty(a.numel() + off, device=a.device, dtype=a.dtype)
            v = buf[off:off + a.numel()].view(a.shape)
            v.copy_(a)
            v.keep = buf
            a = v
        out.append(a)
    return tuple(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("targets", help="the output of `discover list --json`")
    ap.add_argument("kernels", nargs="+", help="exported .cu files (each beside its .cu.json manifest)")
    ap.add_argument("--rows-from", help="`discover bench --per-shape --json` output: time each kernel where it won")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--rep", type=int, default=200, help="ms each do_bench_cudagraph call aims for")
    opts = ap.parse_intermixed_args()
    only = None  # (target, node) -> the rows to time
    if opts.rows_from:
        only = {}
        for r in json.load(open(opts.rows_from)):
            only.setdefault((r["target"], r["kernel"]), []).append(r["rows"])
    targets = {t["name"]: t for t in json.load(open(opts.targets))}
    torch.zeros(1, device="cuda")  # PyTorch's context is current from here on
    # Every (target, rows) with the kernels to time there, in file order.
    groups = {}
    for path in opts.kernels:
        k = Kernel(path)
        t = targets[k.m["target"]]
        for rows in t["shapes"]:
            if only is None or rows in only.get((t["name"], k.m["provenance"]["node_id"]), []):
                groups.setdefault((t["name"], rows), []).append((path, k))
    rows_out = []
    for (name, rows), kernels in groups.items():
        t = targets[name]
        compiled, eager_us = None, None
        kernel_us = {path: [] for path, _ in kernels}
        errs = {path: [] for path, _ in kernels}
        compile_us = []
        # Rounds at different input placements (and fresh values); each
        # round times every kernel and torch.compile, starting at a
        # different one, so drift and placement hit all alike.
        for rnd in range(opts.rounds):
            fn, args = make(t, rows)
            args = place(args, rnd)
            want = fn(*args)
            want = list(want) if isinstance(want, tuple) else [want]
            inputs = [x.reshape(-1) for x in args if torch.is_tensor(x)]
            timers = []
            for path, k in kernels:
                outputs = k.outputs(rows)
                launch = k.launcher(rows, inputs, outputs)
                launch()
                torch.cuda.synchronize()
                errs[path].append([max_err(g, w) for g, w in zip(outputs, want)])
                timers.append((kernel_us[path], launch))
            if compiled is None:
                compiled = torch.compile(fn, dynamic=False)
            compiled(*args)
            timers.append((compile_us, lambda: compiled(*args)))
            shift = rnd % len(timers)
            for times, f in timers[shift:] + timers[:shift]:
                times.append(triton.testing.do_bench_cudagraph(f, rep=opts.rep) * 1e3)
            if eager_us is None:
                eager_us = triton.testing.do_bench_cudagraph(lambda: fn(*args), rep=opts.rep) * 1e3
            print("%s B=%d round %d of %d: torch.compile %.2f us, kernels %s" % (
                name, rows, rnd + 1, opts.rounds, compile_us[-1], " ".join("%.2f" % kernel_us[p][-1] for p, _ in kernels)),
                file=sys.stderr, flush=True)
        for path, k in kernels:
            ks = kernel_us[path]
            row = {"target": name, "rows": rows, "kernel": os.path.basename(path), "node": k.m["provenance"]["node_id"],
                   "kernel_us": statistics.median(ks), "eager_us": eager_us, "compile_us": statistics.median(compile_us),
                   "max_err": [max(e) for e in zip(*errs[path])]}
            if opts.rounds > 1:
                row.update(kernel_us_rounds=ks, compile_us_rounds=compile_us,
                           ratio_rounds=[a / b for a, b in zip(ks, compile_us)])
            print(json.dumps(row), file=sys.stderr, flush=True)
            rows_out.append(row)
    json.dump(rows_out, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
