#!/bin/bash
# Issue 8 on the H200: model-level validation of the tuner's pack at
# GLM-4.7-Flash dims (4 layers), against the seed kernels, and baseline only.
# Run from gpubin/ (this script, the static ./discover and the pack beside
# it): PACK=pack.json OUT=/some/dir ./h200_validate.sh
set -u
cd "$(dirname "$0")"
PACK=${PACK:-pack.json}
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv | tee $OUT/nvidia-smi.txt
./discover pack show "$PACK" > $OUT/pack.txt || echo "pack show rc=$?"
run() { # name, then validate's flags
  local name=$1; shift
  date -u
  timeout 300 ./discover validate --device cuda --session-dir $OUT/sessions "$@" > $OUT/$name.out 2> $OUT/$name.log
  echo "$name rc=$?"
  tail -3 $OUT/$name.log
}
GLM=(--model glm-4.7-flash --layers 4 --max-tokens 200 --runs 5)
run glm4_pack_json "${GLM[@]}" --kernels "$PACK" --json --promote $OUT/promoted.json
run glm4_pack "${GLM[@]}" --kernels "$PACK"
run glm4_baseline_json "${GLM[@]}" --no-patch --json
# All 47 layers (about 117 GB in float32) fit an H200: the whole model's share.
run glm47_pack --model glm-4.7-flash --max-tokens 200 --runs 3 --kernels "$PACK"
cat $OUT/glm4_pack.out $OUT/glm47_pack.out
date -u
