#!/bin/bash
# H200 run 6c (2026-11-29): PyTorch eager and torch.compile (static shapes,
# do_bench_cudagraph) for all nine targets, minutes after run 6b.
set -u
cd "$(dirname "$0")"
gunzip -kf discover.gz; chmod +x discover
export PYTHONUNBUFFERED=1
date -u
./discover list --json > /tmp/targets.json
timeout 500 python3 torch_bench.py /tmp/targets.json > $OUT/torch-static.json 2> $OUT/torch.log; echo "torch rc=$?"
python3 -c "
import json
for r in json.load(open('$OUT/torch-static.json')): print(r['target'], r['rows'], 'eager %.2f compile %.2f'%(r['eager_us'], r['compile_us']))"
date -u
