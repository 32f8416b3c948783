#!/bin/bash
# H200 run 5c (2026-11-28 23:22 UTC): the rmsnorm tuner session resumed for
# 15 more steps, and exhaustive sweeps of the tuner's template space for
# fused_swiglu and topk_gating (TestTunerSweep in a static llm.test), plus a
# 1/12 sample of rmsnorm's (it did not finish in its 170 s).
set -u
cd "$(dirname "$0")"
gunzip -kf discover.gz llm.test.gz
date -u
cp -r rs /tmp/rs
timeout 100 ./discover search rmsnorm --llm tuner --resume --steps 15 --candidates-per-step 4 --device cuda --session-dir /tmp/rs --json > /dev/null 2> /tmp/rs.log
echo "rmsnorm resume rc=$?"
timeout 60 ./discover bench /tmp/rs/rmsnorm_session.json --device cuda --json > $OUT/rs_bench.json 2>/dev/null; echo "bench rc=$?"
date -u
DISCOVER_TUNER_SWEEP=fused_swiglu,topk_gating DISCOVER_TUNER_DEVICE=cuda DISCOVER_TUNER_SWEEP_OUT=$OUT/sweep.tsv timeout 330 ./llm.test -test.run TestTunerSweep -test.timeout 0 > /tmp/sweep.log 2>&1
echo "sweep rc=$?"; date -u
DISCOVER_TUNER_SWEEP=rmsnorm DISCOVER_TUNER_SWEEP_SHARD=0/12 DISCOVER_TUNER_DEVICE=cuda DISCOVER_TUNER_SWEEP_OUT=$OUT/sweep_rmsnorm.tsv timeout 170 ./llm.test -test.run TestTunerSweep -test.timeout 0 > /tmp/sweep_rms.log 2>&1
echo "sweep rmsnorm rc=$?"; date -u
tar czf $OUT/run5c.tgz -C /tmp rs rs.log sweep.log sweep_rms.log
