#!/bin/bash
set -u
cd "$(dirname "$0")"
date -u
timeout 200 ./discover autorun --targets glm_moe_combine,topk_gating,glm_topk_gating,ttt_linear_decode --backends tuner --steps 10 --candidates-per-step 4 --device cuda --session-dir $OUT/auto --json > $OUT/auto.json 2> $OUT/auto.log
echo "autorun rc=$?"
date -u
timeout 120 ./discover search rmsnorm --llm replay --replay hostile/cuda.txt --device cuda --timeout 20s --candidates-per-step 8 --steps 20 --session-dir $OUT/hostile -v > $OUT/hostile.txt 2> $OUT/hostile.log
echo "hostile rc=$?"
grep -E "^  (OK|FAIL)" $OUT/hostile.log | cut -c1-150
date -u
