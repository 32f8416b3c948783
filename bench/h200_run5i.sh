#!/bin/bash
# H200 run 5i: the rmsnorm rpl knob (rows pipelined per work-item). 18
# pipelined kernels for rmsnorm D=4096 evaluated directly (rendered by the
# tuner, played back), fresh tuner searches (10 steps x 4) for rmsnorm and
# glm_rmsnorm, the bench of those sessions, and torch.compile for both
# targets in the same call.
set -u
cd "$(dirname "$0")"
gunzip -kf discover.gz; chmod +x discover
export PYTHONUNBUFFERED=1
mkdir -p /tmp/i
date -u
timeout 60 ./discover search rmsnorm --llm replay --replay rpl.txt --steps 1 --candidates-per-step 18 --device cuda --session-dir /tmp/i/rpl --json > /dev/null 2> /tmp/i/rpl.log; echo "rpl rc=$?"
python3 - <<'PY'
import json
s=json.load(open('/tmp/i/rpl/rmsnorm_session.json'))
src=s['candidate_sources']
def nodes(n):
    yield n
    for c in n.get('children',[]): yield from nodes(c)
rows=[]
for n in nodes(s['tree_data']['root']):
    e=n.get('eval_result') or {}
    sh=[x for x in e.get('shapes',[]) if x['rows']==4096]
    if sh: rows.append((sh[0]['median_us'], sh[0]['seed_median_us'], src.get(n['node_id'],'').split('\n')[0][17:]))
    elif e and not e.get('correct'): print('FAILED', e.get('failure_reason'), (e.get('failure_detail') or '')[:200])
for r in sorted(rows): print('%.2f (seed %.2f) %s'%r)
PY
date -u
timeout 100 ./discover autorun --targets rmsnorm,glm_rmsnorm --backends tuner --steps 10 --candidates-per-step 4 --device cuda --session-dir /tmp/i/auto --json > /tmp/i/auto.json 2> /tmp/i/auto.log; echo "autorun rc=$?"
timeout 40 ./discover bench /tmp/i/auto/*/*_session.json /tmp/i/rpl/rmsnorm_session.json --device cuda --json > /tmp/i/bench.json 2>/dev/null; echo "bench rc=$?"
python3 -c "
import json
for r in json.load(open('/tmp/i/bench.json')): print(r['target'], r['kernel'], r['rows'], '%.2f'%r['median_us'], 'seed %.2f'%r['seed_median_us'], '%.1f%%'%r.get('pct_copy_bw',0))"
date -u
./discover list --json | python3 -c "
import json,sys; ts=json.load(sys.stdin); json.dump([t for t in ts if t['name'] in ('rmsnorm','glm_rmsnorm')], open('/tmp/i/targets.json','w'))"
timeout 70 python3 torch_bench.py /tmp/i/targets.json > /tmp/i/torch.json 2> /tmp/i/torch.log; echo "torch rc=$?"
python3 -c "
import json
for r in json.load(open('/tmp/i/torch.json')): print(r['target'], r['rows'], 'eager %.2f compile %.2f'%(r['eager_us'], r['compile_us']))"
date -u
tar czf $OUT/run5i.tgz -C /tmp i
