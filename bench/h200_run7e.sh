#!/bin/bash
# H200 run 7e (2026-11-29): rmsnorm's template space swept where its best
# points are: every cache=regs point (270), then the row-reload points with
# 128 or more threads per row (720) in random order until time runs out
# (TestTunerSweep with DISCOVER_TUNER_SWEEP_MATCH, streamed to TSV).
set -u
cd "$(dirname "$0")"
gunzip -kf llm.test.gz; chmod +x llm.test
R=/tmp/r7e; mkdir -p $R
sweep() { # name regexp seconds
  DISCOVER_TUNER_SWEEP=rmsnorm DISCOVER_TUNER_SWEEP_MATCH="$2" DISCOVER_TUNER_DEVICE=cuda DISCOVER_TUNER_SWEEP_OUT=$R/sweep_rmsnorm_$1.tsv \
    timeout $3 ./llm.test -test.run TestTunerSweep -test.v -test.timeout 0 > $R/sweep_$1.log 2>&1
  echo "sweep $1 rc=$? points $(($(wc -l < $R/sweep_rmsnorm_$1.tsv) - 1))"; date -u
  sort -t$'\t' -k5,5 -gr $R/sweep_rmsnorm_$1.tsv | head -5
}
date -u
sweep regs 'cache=regs' 260
sweep reload128 'tpr=(128|256|512|1024) .*cache=reload' 230
cp $R/*.tsv $OUT/
