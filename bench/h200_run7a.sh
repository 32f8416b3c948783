#!/bin/bash
# H200 run 7a (2026-11-29): rmsnorm D=4096 at B=4096 against torch.compile in
# PyTorch's harness, 7 rounds at different input placements
# (bench/torch_kernels.py --rounds): a fresh 10-step tuner search's six
# fastest kernels at B=4096, the hand cache-hint variants
# (bench/rmsnorm_hints.py) and bulk-copy variants (bench/rmsnorm_bulk.py),
# each first checked and timed by discover through --llm replay.
set -u
cd "$(dirname "$0")"
gunzip -kf discover.gz; chmod +x discover
export PYTHONUNBUFFERED=1
R=/tmp/r7a; mkdir -p $R/kernels
date -u; nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,memory.total --format=csv,noheader
timeout 120 ./discover search rmsnorm --llm tuner --steps 10 --candidates-per-step 4 --device cuda --session-dir $R/tuner --json > $R/tuner.json 2> $R/tuner.log; echo "tuner rc=$?"
for v in hints bulk; do
  python3 rmsnorm_$v.py > $R/$v.txt
  n=$(grep -c '^REASONING' $R/$v.txt)
  timeout 90 ./discover search rmsnorm --llm replay --replay $R/$v.txt --steps 1 --candidates-per-step $n --device cuda --session-dir $R/$v --json > $R/$v.json 2> $R/$v.log; echo "$v rc=$?"
done
date -u
python3 - <<'PY'
import json, subprocess
R = '/tmp/r7a'
def walk(n):
    yield n
    for c in n.get('children') or []: yield from walk(c)
for name, top in (('tuner', 6), ('hints', 99), ('bulk', 99)):
    s = json.load(open('%s/%s/rmsnorm_session.json' % (R, name)))
    rows = []
    for n in walk(s['tree_data']['root']):
        res = n.get('eval_result') or {}
        sh = {x['rows']: x for x in res.get('shapes') or []}
        if n['node_id'] != 'root' and res.get('correct') and 4096 in sh:
            rows.append((sh[4096]['median_us'], n['node_id'], (n.get('candidate') or {}).get('reasoning', '')[:90]))
        elif n['node_id'] != 'root':
            print(name, n['node_id'], 'failed:', res.get('failure'), (res.get('detail') or '')[:300])
    rows.sort()
    for us, node, why in rows[:top]:
        print('%-6s %-20s %7.2f us  %s' % (name, node, us, why))
        subprocess.run(['./discover', 'export', '%s/%s/rmsnorm_session.json' % (R, name), '--node', node, '-o', '%s/kernels/%s-%s.cu' % (R, name, node)])
PY
./discover list --json | python3 -c "
import json,sys; ts=json.load(sys.stdin); json.dump([dict(t, shapes=[4096]) for t in ts if t['name']=='rmsnorm'], open('/tmp/r7a/targets.json','w'))"
date -u
timeout 300 python3 torch_kernels.py $R/targets.json --rounds 7 $R/kernels/*.cu > $R/torch_kernels.json 2> $R/torch_kernels.log; echo "torch_kernels rc=$?"
tail -3 $R/torch_kernels.log
python3 - <<'PY'
import json
rs = json.load(open('/tmp/r7a/torch_kernels.json'))
for r in sorted(rs, key=lambda r: r['kernel_us']):
    q = sorted(r['ratio_rounds'])
    print('%-34s kernel %6.2f compile %6.2f  ratio median %.3f min %.3f max %.3f  err %.1e' % (r['kernel'][:34], r['kernel_us'], r['compile_us'], q[len(q)//2], q[0], q[-1], max(r['max_err'])))
PY
date -u
tar czf $OUT/run7a.tgz -C /tmp r7a
