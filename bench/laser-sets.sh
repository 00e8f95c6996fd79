#!/bin/sh
# stories260K on LASER's other sets: base vs one intervention (out:4:0.1), test part of the first
# 1000 cases of each set (800 cases), as recorded in bench/RESULTS-laser.md section 5.
# Usage: sh bench/laser-sets.sh   (from the repository root; ../shared/data must exist)
M=../shared/data/models/stories260K
D=../shared/data/datasets
run() {
  kind=$1; data=$2; shift 2
  for iv in "" "-i out:4:0.1"; do
    echo "### $kind ${iv:-base}"
    /usr/bin/time -f 'wall %e s, peak RSS %M KB' node bin/linscope.mjs laser eval -m $M --dataset $kind --data $data \
      --max-cases 1000 --split test --batch-size 32 --threads 1 -q $iv "$@"
  done
}
uptime
run fever $D/fever
run truthfulqa $D/truthfulqa/mc_task.json
run hotpotqa $D/hotpotqa/hotpot_dev_v1_simplified.json --generate
run bigbench_qa_wikidata $D/bigbench-qa-wikidata/bigbench_qa_wikidata.jsonl --generate
uptime
