#!/bin/bash
set -u
cd "$(dirname "$0")"
./discover list --json > $OUT/targets.json
export PYTHONUNBUFFERED=1
date -u
./discover search fused_swiglu --llm mock --device cuda --steps 3 --candidates-per-step 4 --session-dir $OUT/mock --json > /dev/null 2>$OUT/tp.log
./discover search glm_moe_combine --llm mock --device cuda --steps 3 --candidates-per-step 4 --session-dir $OUT/mock --json > /dev/null 2>>$OUT/tp.log
python3 -c "
import json
for t in ['fused_swiglu','glm_moe_combine']:
  s=json.load(open('$OUT/mock/'+t+'_session.json'));e=[h['eval_seconds'] for h in s['eval_history']]
  print(t,'evals',len(e),'mean s %.3f per min %.1f'%(sum(e)/len(e),60*len(e)/sum(e)), 'fails', [h.get('failure_reason') for h in s['eval_history'] if not h['correct']])"
date -u
timeout 400 python3 torch_bench.py $OUT/targets.json > $OUT/torch.json 2> $OUT/torch.log
echo "torch rc=$?"; tail -40 $OUT/torch.log | grep -v Warning
date -u
