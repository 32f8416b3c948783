#!/bin/bash
# Issue 3 on the H200: seeds correct, mock search per target, throughput, A/A repeatability.
set -u
cd "$(dirname "$0")"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv | tee $OUT/nvidia-smi.txt
./discover list --json > $OUT/targets.json
date -u
for t in $(python3 -c 'import json;print(" ".join(x["name"] for x in json.load(open("'$OUT'/targets.json"))))'); do
  /usr/bin/time -f "$t wall %e s" ./discover search $t --llm mock --device cuda --steps 2 --candidates-per-step 4 --session-dir $OUT/mock --json > $OUT/mock_$t.json 2>> $OUT/search.log || echo "search $t failed rc=$?" >> $OUT/search.log
done
tail -5 $OUT/search.log
python3 - <<'PY'
import json,glob,os
out=os.environ["OUT"]
for f in sorted(glob.glob(out+"/mock/*_session.json")):
    s=json.load(open(f))
    ev=[h for h in s["eval_history"]]
    secs=[h["eval_seconds"] for h in ev]
    fails=[h.get("failure_reason") for h in ev if not h["correct"]]
    print(s["metadata"]["target_name"], "evals", len(ev), "mean eval s %.3f"%(sum(secs)/len(secs)), "per min %.1f"%(60*len(secs)/sum(secs)), "fails", fails, "best", round(s["metadata"]["best_speedup"],3))
PY
./discover bench --targets all --device cuda --json > $OUT/bench1.json 2>$OUT/bench1.log
./discover bench --targets all --device cuda --json > $OUT/bench2.json 2>$OUT/bench2.log
python3 - <<'PY'
import json,os
out=os.environ["OUT"]
a=json.load(open(out+"/bench1.json")); b=json.load(open(out+"/bench2.json"))
for x,y in zip(a,b):
    if not x["correct"]: print(x["target"],"FAILED",x.get("failure")); continue
    print("%-18s %5d run1 %9.2f run2 %9.2f diff %5.2f%%  p10-p90 %.2f-%.2f  GB/s %.0f %%bw %.1f"%(x["target"],x["rows"],x["median_us"],y["median_us"],100*abs(x["median_us"]/y["median_us"]-1),x["p10_us"],x["p90_us"],x["gb_per_s"],x["pct_copy_bw"]))
PY
date -u
