#!/bin/bash
# H200 run 5b (2026-11-28 23:16 UTC): the tuner on all nine targets, the
# bench of its sessions (seed and best, interleaved), a pack of its winners
# and the model-level validation of that pack (GLM-4.7-Flash dims, 4 layers).
set -u
cd "$(dirname "$0")"
date -u
timeout 400 ./discover autorun --backends tuner --steps 10 --candidates-per-step 4 --device cuda --session-dir /tmp/auto --json > $OUT/auto.json 2> /tmp/auto.log
echo "autorun rc=$?"; date -u
for f in /tmp/auto/*/*_session.json; do python3 throughput.py $f; done
timeout 120 ./discover bench /tmp/auto/*/*_session.json --device cuda --json > $OUT/bench.json 2> /tmp/bench.log
echo "bench rc=$?"; date -u
./discover pack add /tmp/auto/*/*_session.json -o $OUT/pack.json > /tmp/pack.log 2>&1; echo "pack rc=$?"
timeout 150 ./discover validate --model glm-4.7-flash --layers 4 --max-tokens 200 --runs 5 --kernels $OUT/pack.json --device cuda --session-dir /tmp/vs --json > $OUT/validate.json 2> /tmp/validate.log
echo "validate rc=$?"; tail -40 /tmp/validate.log
tar czf $OUT/run5b.tgz -C /tmp auto vs auto.log bench.log pack.log validate.log
date -u
