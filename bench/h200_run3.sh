#!/bin/bash
set -u
cd "$(dirname "$0")"
date -u
./discover search fused_swiglu --llm mock --device cuda --steps 2 --candidates-per-step 4 --session-dir $OUT/mock --json > /dev/null 2>$OUT/tp.log
python3 -c "
import json;s=json.load(open('$OUT/mock/fused_swiglu_session.json'))
def walk(n):
  yield n
  for c in n['children']: yield from walk(c)
rs=[n['eval_result'] for n in walk(s['tree_data']['root'])]
for k in ['eval_seconds','compile_seconds','check_seconds','timing_seconds']: print(k, '%.3f'%(sum(r.get(k,0) for r in rs)/len(rs)))
print('per min %.1f'%(60*len(rs)/sum(r['eval_seconds'] for r in rs)))"
date -u
timeout 470 ./discover autorun --targets fused_swiglu,glm_fused_swiglu,rmsnorm,glm_rmsnorm,moe_combine --backends tuner --steps 10 --candidates-per-step 4 --device cuda --session-dir $OUT/auto --json > $OUT/auto.json 2> $OUT/auto.log
echo "autorun rc=$?"
grep -E "FAIL|error" $OUT/auto.log | head -20
python3 -c "
import json,glob
for f in sorted(glob.glob('$OUT/auto/*/*_session.json')):
  s=json.load(open(f)); m=s['metadata']
  def walk(n):
    yield n
    for c in n['children']: yield from walk(c)
  ns=[n for n in walk(s['tree_data']['root'])]
  best=[n for n in ns if n['node_id']==m['best_node_id']][0]
  fails={}
  for n in ns:
    r=n['eval_result']
    if not r['correct']: fails[r.get('failure_reason')]=fails.get(r.get('failure_reason'),0)+1
  print(m['target_name'],'steps',m['total_steps'],'evals',len(ns),'best %.3f'%m['best_speedup'],'fails',fails)
  for sh in best['eval_result'].get('shapes',[]): print('   B=%5d %8.2f us (seed %8.2f) %.3fx  %.0f GB/s %.1f%%'%(sh['rows'],sh['median_us'],sh['seed_median_us'],sh['speedup'],sh['gb_per_s'],sh['pct_copy_bw']))
  print('   ', best['candidate']['llm_reasoning'][:150])
"
date -u
