#!/bin/bash
# H200 run 7d (2026-11-29): every target against torch.compile at every
# shape in PyTorch's harness, 5 rounds at different input placements
# (bench/torch_kernels.py --rounds): each shape's fastest kernel of run
# 6d's tuner sessions (run 7c's for rmsnorm and glm_rmsnorm, searched from
# the new default point), re-timed by `discover bench --per-shape` in a
# fresh process, exported with `export --node`. s7d/ holds those nine
# session files (docs/data/h200-2026-11-29-run6/tuner/, run7/7c-default-point/).
set -u
cd "$(dirname "$0")"
gunzip -kf discover.gz; chmod +x discover
export PYTHONUNBUFFERED=1
R=/tmp/r7d; mkdir -p $R/kernels
date -u
timeout 120 ./discover bench s7d/*_session.json --per-shape --device cuda --json > $R/pershape.json 2> $R/pershape.log; echo "bench rc=$?"
python3 - <<'PY'
import json, subprocess
seen = set()
for r in json.load(open('/tmp/r7d/pershape.json')):
    key = (r['target'], r['kernel'])
    if key in seen: continue
    seen.add(key)
    p = subprocess.run(['./discover', 'export', r['from'], '--node', r['kernel'], '-o', '/tmp/r7d/kernels/%s-%s.cu' % key], capture_output=True, text=True)
    if p.returncode: print('export', key, 'failed:', p.stderr.strip())
PY
./discover list --json > $R/targets.json
date -u
timeout 420 python3 torch_kernels.py $R/targets.json --rows-from $R/pershape.json --rounds 5 --rep 20 $R/kernels/*.cu > $R/torch_kernels.json 2> $R/torch_kernels.log; echo "torch_kernels rc=$?"
grep -v round $R/torch_kernels.log | grep -v '^{' | tail -5
date -u
tar czf $OUT/run7d.tgz -C /tmp r7d
python3 - <<'PY'
import json
rows = [json.loads(l) for l in open('/tmp/r7d/torch_kernels.log') if l.startswith('{')]
for r in rows:
    q = sorted(r.get('ratio_rounds', [r['kernel_us'] / r['compile_us']]))
    print('%-18s %5d kernel %8.2f compile %8.2f eager %8.2f ratio med %.3f max %.3f err %.1e' % (r['target'], r['rows'], r['kernel_us'], r['compile_us'], r['eager_us'], q[len(q)//2], q[-1], max(r['max_err'])))
PY
