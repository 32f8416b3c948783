#!/bin/bash
set -u
cd "$(dirname "$0")"
gunzip -kf discover.gz
mkdir -p /tmp/e
for i in 1 2 3; do
  nvidia-smi --query-gpu=clocks.sm,clocks.mem,power.draw,temperature.gpu --format=csv,noheader
  timeout 90 ./discover bench auto/*_session.json --device cuda --json > /tmp/e/repeat$i.json 2>/dev/null; echo "bench $i rc=$?"
done
python3 - <<'PY'
import json, itertools
runs=[{(r['target'],r['rows']):r for r in json.load(open('/tmp/e/repeat%d.json'%i))} for i in (1,2,3)]
for a,b,name in ((runs[0],runs[1],'1-2'),(runs[1],runs[2],'2-3'),(runs[0],runs[2],'1-3')):
    worst={}
    for k in a:
        d=abs(a[k]['median_us']-b[k]['median_us'])/a[k]['median_us']*100
        big = k[1] in (4096, 32)
        worst[big]=max(worst.get(big,(0,('',0))), (d,k))
    print(name, 'worst large %.2f%% %s'%worst[True], 'worst decode %.2f%% %s'%worst[False])
for k in runs[0]:
    print(k[0], k[1], ' '.join('%.3f'%r[k]['median_us'] for r in runs))
PY
tar czf $OUT/run5e.tgz -C /tmp e
