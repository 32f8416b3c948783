#!/bin/bash
# H200 run 7b (2026-11-29): nine of run 7a's rmsnorm kernels (the tuner
# search's two best, four hand cache-hint variants, three bulk-copy
# variants) against torch.compile at B=4096 in PyTorch's harness, 9 rounds
# at different input placements (run 7a's own attempt ran out of time).
# k7a/ holds those nine exports from run7a.tgz (kernels/*.cu and .cu.json)
# and run 7a's targets.json (rmsnorm at B=4096 only).
set -u
cd "$(dirname "$0")"
export PYTHONUNBUFFERED=1
R=/tmp/r7b; mkdir -p $R
date -u
timeout 400 python3 torch_kernels.py k7a/targets.json --rounds 9 --rep 50 k7a/*.cu > $R/torch_kernels.json 2> $R/torch_kernels.log; echo "torch_kernels rc=$?"
cat $R/torch_kernels.log | grep round
python3 - <<'PY'
import json
rs = json.load(open('/tmp/r7b/torch_kernels.json'))
for r in sorted(rs, key=lambda r: r['kernel_us']):
    q = sorted(r['ratio_rounds'])
    print('%-34s kernel %6.2f compile %6.2f  ratio median %.3f min %.3f max %.3f  err %.1e' % (r['kernel'][:34], r['kernel_us'], r['compile_us'], q[len(q)//2], q[0], q[-1], max(r['max_err'])))
PY
date -u
cp $R/* $OUT/
