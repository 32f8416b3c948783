#!/bin/bash
# H200 run 5h: the nine tuner bests benched twice with a build whose timing
# samples each start after one untimed launch of the same kernel.
set -u
cd "$(dirname "$0")"
gunzip -kf discover.gz; chmod +x discover
mkdir -p /tmp/h
for i in 1 2; do
  timeout 90 ./discover bench auto/*_session.json --device cuda --json > /tmp/h/prologue-$i.json 2>/dev/null; echo "bench $i rc=$?"
done
python3 - <<'PY'
import json
runs=[{(r['target'],r['rows']):r for r in json.load(open('/tmp/h/prologue-%d.json'%i))} for i in (1,2)]
for k in runs[0]:
    print(k[0], k[1], ' '.join('%.3f (seed %.3f, %.1f%%)'%(r[k]['median_us'], r[k]['seed_median_us'], r[k].get('pct_copy_bw',0)) for r in runs))
PY
tar czf $OUT/run5h.tgz -C /tmp h
