#!/bin/bash
set -u
cd "$(dirname "$0")"
gunzip -kf discover.gz
date -u
mkdir -p /tmp/v
PACK=pack5.json OUT=/tmp/v bash h200_validate.sh 2>&1 | tail -60
echo "validate script rc=$?"
date -u
for i in 1 2; do timeout 90 ./discover bench auto/*_session.json --device cuda --json > /tmp/v/repeat$i.json 2>/dev/null; echo "bench $i rc=$?"; done
python3 - <<'PY'
import json
a={(r['target'],r['rows']):r for r in json.load(open('/tmp/v/repeat1.json'))}
b={(r['target'],r['rows']):r for r in json.load(open('/tmp/v/repeat2.json'))}
worst={}
for k in a:
    d=abs(a[k]['median_us']-b[k]['median_us'])/a[k]['median_us']*100
    big = k[1] in (4096, 32)
    worst[big]=max(worst.get(big,(0,('',0))), (d,k))
    print(k[0], k[1], '%.3f %.3f %.2f%%'%(a[k]['median_us'], b[k]['median_us'], d))
print('worst large', worst.get(True), 'worst decode', worst.get(False))
PY
date -u

date -u
./discover list --json | python3 -c "
import json,sys; ts=json.load(sys.stdin); json.dump([t for t in ts if t['name'] in ('rmsnorm','glm_rmsnorm','fused_swiglu')], open('/tmp/near.json','w'))"
PYTHONUNBUFFERED=1 timeout 120 python3 torch_bench.py /tmp/near.json > $OUT/torch_near.json 2> /tmp/v/torch_near.log; echo "torch near rc=$?"
python3 -c "
import json
for r in json.load(open('$OUT/torch_near.json')):
    if r['rows']==4096: print(r['target'], 'eager %.2f compile %.2f'%(r['eager_us'], r['compile_us']))"
date -u
tar czf $OUT/run5d.tgz -C /tmp v
