#!/bin/bash
set -u
cd "$(dirname "$0")"
gunzip -kf discover.gz discover_new.gz; chmod +x discover discover_new
mkdir -p /tmp/f
nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,power.draw --format=csv,noheader -lms 100 > /tmp/f/clocks.csv &
SMI=$!
for i in 1 2 3; do
  for b in discover discover_new; do
    date -u +%T.%N | tee -a /tmp/f/marks.txt; echo "$b $i" | tee -a /tmp/f/marks.txt
    timeout 90 ./$b bench auto/*_session.json --device cuda --json > /tmp/f/$b-$i.json 2>/dev/null; echo "rc=$?"
  done
done
kill $SMI
python3 - <<'PY'
import json
for b in ('discover','discover_new'):
    runs=[{(r['target'],r['rows']):r for r in json.load(open('/tmp/f/%s-%d.json'%(b,i)))} for i in (1,2,3)]
    for x,y in ((0,1),(1,2),(0,2)):
        worst={}
        for k in runs[x]:
            d=abs(runs[x][k]['median_us']-runs[y][k]['median_us'])/runs[x][k]['median_us']*100
            big = k[1] in (4096, 32)
            worst[big]=max(worst.get(big,(0,('',0))), (d,k))
        print(b, x+1, y+1, 'worst large %.2f%% %s'%worst[True], 'worst decode %.2f%% %s'%worst[False])
    for k in runs[0]:
        print('  ', k[0], k[1], ' '.join('%.3f'%r[k]['median_us'] for r in runs))
PY
awk -F', ' '{print $2}' /tmp/f/clocks.csv | sort | uniq -c | sort -rn | head -5
tar czf $OUT/run5f.tgz -C /tmp f
