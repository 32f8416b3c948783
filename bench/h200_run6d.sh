#!/bin/bash
# H200 run 6d (2026-11-29), the session's table: the tuner on all nine
# targets (10 steps x 4, normal timed inputs, hint=loads in rmsnorm's
# space), the bench of its sessions in two separate processes, and each
# session's best kernel exported and timed in PyTorch's harness beside
# eager and torch.compile (bench/torch_kernels.py).
set -u
cd "$(dirname "$0")"
gunzip -kf discover.gz; chmod +x discover
export PYTHONUNBUFFERED=1
R=/tmp/r6d; mkdir -p $R/kernels
date -u
timeout 330 ./discover autorun --backends tuner --steps 10 --candidates-per-step 4 --device cuda --session-dir $R/auto --json > $R/auto.json 2> $R/auto.log
echo "autorun rc=$?"; date -u
for f in $R/auto/*/*_session.json; do python3 throughput.py $f; done
for i in 1 2; do
  timeout 100 ./discover bench $R/auto/*/*_session.json --device cuda --json > $R/bench$i.json 2> $R/bench$i.log; echo "bench $i rc=$?"
done
date -u
tar czf $OUT/run6d-sessions.tgz -C /tmp r6d
for f in $R/auto/*/*_session.json; do
  t=$(basename $f _session.json); ./discover export $f -o $R/kernels/$t.cu 2>> $R/export.log || echo "export $t failed"
done
./discover list --json > $R/targets.json
timeout 200 python3 torch_kernels.py $R/targets.json $R/kernels/*.cu > $R/torch_kernels.json 2> $R/torch_kernels.log; echo "torch_kernels rc=$?"
tail -3 $R/torch_kernels.log
date -u
python3 - <<'PY'
import json
b=[{(r['target'],r['rows']):r for r in json.load(open('/tmp/r6d/bench%d.json'%i))} for i in (1,2)]
tk={(r['target'],r['rows']):r for r in json.load(open('/tmp/r6d/torch_kernels.json'))}
for k in sorted(b[0]):
    r1,r2=b[0][k],b[1].get(k,{})
    t=tk.get(k,{})
    print('%-18s %5d seed %8.2f best %8.2f %8.2f | torch harness: kernel %8.2f compile %8.2f eager %8.2f err %s'%(k[0],k[1],r1['seed_median_us'],r1['median_us'],r2.get('median_us',0),t.get('kernel_us',0),t.get('compile_us',0),t.get('eager_us',0),t.get('max_err')))
PY
tar czf $OUT/run6d.tgz -C /tmp r6d
date -u
