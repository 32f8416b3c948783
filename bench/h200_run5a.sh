#!/bin/bash
# H200 run 5a: evaluation throughput (eval benchmark and a mock search), then
# PyTorch eager and torch.compile (static shapes) for every target and shape.
# Run from the folder holding the static discover binary, eval.test and the
# bench scripts (gpubin/).
set -u
cd "$(dirname "$0")"
export PYTHONUNBUFFERED=1
date -u
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader
DISCOVER_BENCH_DEVICE=cuda DISCOVER_BENCH_TARGET=fused_swiglu timeout 120 ./eval.test -test.run '^$' -test.bench Evaluate -test.benchtime 10x > $OUT/evalbench.txt 2>&1
grep -E "^Benchmark|FAIL|panic" $OUT/evalbench.txt
timeout 120 ./discover search fused_swiglu --llm mock --device cuda --steps 3 --candidates-per-step 4 --session-dir /tmp/mock --json > /dev/null 2> $OUT/mock.log
echo "mock search rc=$?"
python3 throughput.py /tmp/mock/fused_swiglu_session.json
date -u
./discover list --json > /tmp/targets.json
timeout 360 python3 torch_bench.py /tmp/targets.json > $OUT/torch.json 2> $OUT/torch.log
echo "torch rc=$?"
grep -v Warning $OUT/torch.log | tail -5
date -u
