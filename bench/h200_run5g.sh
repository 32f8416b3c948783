#!/bin/bash
set -u
cd "$(dirname "$0")"
gunzip -kf discover.gz; chmod +x discover
mkdir -p /tmp/g
for i in 1 2 3 4; do
  timeout 90 ./discover bench auto/*_session.json --device cuda --json > /tmp/g/repeat$i.json 2>/dev/null; echo "bench $i rc=$?"
done
python3 - <<'PY'
import json
runs=[{(r['target'],r['rows']):r for r in json.load(open('/tmp/g/repeat%d.json'%i))} for i in (1,2,3,4)]
for x,y in ((0,1),(1,2),(2,3),(0,3)):
    worst={}
    for k in runs[x]:
        d=abs(runs[x][k]['median_us']-runs[y][k]['median_us'])/runs[x][k]['median_us']*100
        big = k[1] in (4096, 32)
        worst[big]=max(worst.get(big,(0,('',0))), (d,k))
    print(x+1, y+1, 'worst large %.2f%% %s'%worst[True], 'worst decode %.2f%% %s'%worst[False])
for k in runs[0]:
    print('  ', k[0], k[1], ' '.join('%.3f'%r[k]['median_us'] for r in runs))
PY
tar czf $OUT/run5g.tgz -C /tmp g
