#!/bin/bash
# H200 run 6f (2026-11-29): run 6d's nine sessions with `bench --per-shape`
# (each shape's fastest kernel, re-timed in a fresh process), those kernels
# exported with `export --node` and timed in PyTorch's harness at the shapes
# they won, beside eager and torch.compile.
set -u
cd "$(dirname "$0")"
gunzip -kf discover.gz; chmod +x discover
export PYTHONUNBUFFERED=1
R=/tmp/r6f; mkdir -p $R/kernels
date -u
timeout 100 ./discover bench auto6d/*_session.json --per-shape --device cuda --json > $R/pershape.json 2> $R/pershape.log; echo "bench rc=$?"
python3 - <<'PY'
import json, subprocess
seen = set()
for r in json.load(open('/tmp/r6f/pershape.json')):
    key = (r['target'], r['kernel'])
    if key in seen: continue
    seen.add(key)
    out = '/tmp/r6f/kernels/%s-%s.cu' % key
    p = subprocess.run(['./discover', 'export', r['from'], '--node', r['kernel'], '-o', out], capture_output=True, text=True)
    if p.returncode: print('export', key, 'failed:', p.stderr.strip())
PY
./discover list --json > $R/targets.json
date -u
timeout 150 python3 torch_kernels.py $R/targets.json --rows-from $R/pershape.json $R/kernels/*.cu > $R/torch_kernels.json 2> $R/torch_kernels.log; echo "torch_kernels rc=$?"
tail -2 $R/torch_kernels.log
python3 - <<'PY'
import json
tk={(r['target'],r['rows']):r for r in json.load(open('/tmp/r6f/torch_kernels.json'))}
for r in json.load(open('/tmp/r6f/pershape.json')):
    t=tk.get((r['target'],r['rows']),{})
    print('%-18s %5d %-20s best %8.2f seed %8.2f | torch harness: kernel %8.2f compile %8.2f eager %8.2f err %s'%(r['target'],r['rows'],r['kernel'],r['median_us'],r['seed_median_us'],t.get('kernel_us',0),t.get('compile_us',0),t.get('eager_us',0),t.get('max_err')))
PY
date -u
tar czf $OUT/run6f.tgz -C /tmp r6f
