#!/bin/bash
# H200 run 7c (2026-11-29): rmsnorm and glm_rmsnorm tuner searches (10 steps
# x 4) from the new CUDA default point (a block per row, two vectors per
# thread), then a 1/8 shard of rmsnorm's template space swept
# (TestTunerSweep, every 8th point, streamed to TSV).
set -u
cd "$(dirname "$0")"
gunzip -kf discover.gz llm.test.gz; chmod +x discover llm.test
R=/tmp/r7c; mkdir -p $R
date -u
for t in rmsnorm glm_rmsnorm; do
  timeout 100 ./discover search $t --llm tuner --steps 10 --candidates-per-step 4 --device cuda --session-dir $R/$t --json > $R/$t.json 2> $R/$t.log; echo "$t rc=$?"
done
date -u
DISCOVER_TUNER_SWEEP=rmsnorm DISCOVER_TUNER_SWEEP_SHARD=0/8 DISCOVER_TUNER_DEVICE=cuda DISCOVER_TUNER_SWEEP_OUT=$R/sweep_rmsnorm_0of8.tsv timeout 380 ./llm.test -test.run TestTunerSweep -test.v -test.timeout 0 > $R/sweep.log 2>&1
echo "sweep rc=$?"; date -u
wc -l $R/sweep_rmsnorm_0of8.tsv
sort -t$'\t' -k5,5 -gr $R/sweep_rmsnorm_0of8.tsv | head -8
tar czf $OUT/run7c.tgz -C /tmp r7c
