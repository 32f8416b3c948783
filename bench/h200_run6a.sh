#!/bin/bash
# H200 run 6a (2026-11-29): (1) what torch.compile runs for rmsnorm D=4096;
# (2) twelve hand rmsnorm variants with different cache hints
# (bench/rmsnorm_hints.py), evaluated against the seed; (3) when does a
# fresh bench worker run slow: the same fused_swiglu session benched six
# times per process, in back-to-back processes, after an idle pause, with
# nvidia-smi sampling clocks, power and throttle reasons.
set -u
cd "$(dirname "$0")"
gunzip -kf discover.gz; chmod +x discover
export PYTHONUNBUFFERED=1
R=/tmp/r6a; mkdir -p $R
date -u
nvidia-smi -q | grep -iE "persistence|performance state|Clocks Event Reasons$|Idle|Power Limit|Memory  |Applications|Max Clocks" -A0 | head -30
nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,power.draw,pstate,temperature.gpu,clocks_event_reasons.active --format=csv,noheader -lms 100 > $R/smi.csv 2>&1 &
SMI=$!
stamp() { python3 -c "
import sys,time
for l in sys.stdin: sys.stdout.write('%.3f %s'%(time.time(), l)); sys.stdout.flush()"; }
F=fused_swiglu_session.json
for run in 1 2; do
  echo "bench run $run start $(date +%s.%N)"
  timeout 100 ./discover bench $F $F $F $F $F $F --device cuda --json > $R/rep$run.json 2> >(stamp > $R/rep$run.log); echo "rc=$?"
done
sleep 20
echo "bench run 3 (after 20 s idle) start $(date +%s.%N)"
timeout 100 ./discover bench $F $F $F $F $F $F --device cuda --json > $R/rep3.json 2> >(stamp > $R/rep3.log); echo "rc=$?"
kill $SMI
python3 - <<'PY'
import json
for run in (1,2,3):
    rows=json.load(open('/tmp/r6a/rep%d.json'%run))
    print('run', run, ' '.join('%d:%.2f/%.2f'%(r['rows'], r['median_us'], r['seed_median_us']) for r in rows if r['rows'] in (1,4096)))
PY
date -u
TRITON_CACHE_DIR=$R/tcache timeout 120 python3 inductor_dump.py > $R/inductor.txt 2> $R/inductor_code.log; echo "inductor rc=$?"
cat $R/inductor.txt
grep -n "def triton\|triton_heuristics\|reduction(\|persistent\|eviction\|XBLOCK\|RBLOCK\|R0_BLOCK\|num_warps" $R/inductor_code.log | head -40
date -u
timeout 90 ./discover search rmsnorm --llm replay --replay rmsnorm_hints.txt --steps 1 --candidates-per-step 12 --device cuda --session-dir $R/hints --json > /dev/null 2> $R/hints.log; echo "hints rc=$?"
python3 - <<'PY'
import json
s=json.load(open('/tmp/r6a/hints/rmsnorm_session.json'))
src=s['candidate_sources']
def nodes(n):
    yield n
    for c in n.get('children',[]): yield from nodes(c)
rows=[]
for n in nodes(s['tree_data']['root']):
    e=n.get('eval_result') or {}
    sh={x['rows']:x for x in e.get('shapes',[])}
    if 4096 in sh: rows.append((sh[4096]['median_us'], sh[4096]['seed_median_us'], sh[1]['median_us'], src.get(n['node_id'],'').split('\n')[0]))
    elif e and not e.get('correct'): print('FAILED', src.get(n['node_id'],'').split('\n')[0], e.get('failure_reason'), (e.get('failure_detail') or '')[:300])
for r in sorted(rows): print('%.2f (seed %.2f) B=1 %.2f %s'%r)
PY
./discover list --json | python3 -c "
import json,sys; ts=json.load(sys.stdin); json.dump([t for t in ts if t['name']=='rmsnorm'], open('/tmp/r6a/targets.json','w'))"
timeout 60 python3 torch_bench.py $R/targets.json > $R/torch.json 2> $R/torch.log; echo "torch rc=$?"
python3 -c "
import json
for r in json.load(open('/tmp/r6a/torch.json')): print(r['target'], r['rows'], 'eager %.2f compile %.2f'%(r['eager_us'], r['compile_us']))"
date -u
tar czf $OUT/run6a.tgz -C /tmp r6a
