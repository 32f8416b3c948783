#!/bin/bash
# H200 run 6e (2026-11-29): run 6d's nine sessions benched again by two
# more processes (repeatability), and single rmsnorm and swiglu kernels
# timed in PyTorch's harness beside torch.compile: the tuner's reload
# kernel with hint=loads, hand kernels (regs512 plain; L1 eviction
# priorities as Inductor's), the tuner's fastest swiglu at B=4096 (tpb=1024),
# and run 6d's exported rmsnorm and fused_swiglu again.
set -u
cd "$(dirname "$0")"
gunzip -kf discover.gz; chmod +x discover
export PYTHONUNBUFFERED=1
R=/tmp/r6e; mkdir -p $R/kernels
date -u
for i in 3 4; do
  timeout 100 ./discover bench auto6d/*_session.json --device cuda --json > $R/bench$i.json 2> $R/bench$i.log; echo "bench $i rc=$?"
done
date -u
for v in rms_loads:rmsnorm rms_regs512:rmsnorm rms_l1:rmsnorm swiglu_1024:fused_swiglu; do
  f=${v%%:*}; t=${v##*:}
  timeout 60 ./discover search $t --llm replay --replay $f.txt --steps 1 --candidates-per-step 1 --device cuda --session-dir $R/$f --json > /dev/null 2> $R/$f.log; echo "$f rc=$?"
  ./discover export $R/$f/${t}_session.json -o $R/kernels/$f.cu 2>> $R/export.log || echo "export $f failed"
done
cp k6d/* $R/kernels/
./discover list --json | python3 -c "
import json,sys; ts=json.load(sys.stdin); json.dump([dict(t, shapes=[s for s in t['shapes'] if s in (1, 4096)]) for t in ts if t['name'] in ('rmsnorm','fused_swiglu')], open('$R/targets.json','w'))"
timeout 200 python3 torch_kernels.py $R/targets.json $R/kernels/*.cu > $R/torch_kernels.json 2> $R/torch_kernels.log; echo "torch_kernels rc=$?"
python3 - <<'PY'
import json
for r in json.load(open('/tmp/r6e/torch_kernels.json')): print('%-13s %5d %-20s kernel %7.2f compile %7.2f err %s'%(r['target'], r['rows'], r['kernel'], r['kernel_us'], r['compile_us'], ['%.1e'%e for e in r['max_err']]))
PY
date -u
tar czf $OUT/run6e.tgz -C /tmp r6e
