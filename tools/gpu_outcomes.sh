#!/usr/bin/env bash
# The GPU runs behind the "is the model better?" results, on one GPU machine set up with
#   pip install -c constraints-gpu.txt -e ".[gpu,dev]"
# Writes (each with date, GPU and versions inside):
#   bench/test_gpu_before_after.txt  before answers are the reference's, after answers the adapters', both engines (pytest log)
#   runs/gpu-main                    the main job with its defaults (engine auto), before/after answers and the verdict
#   bench/hh_gpu_epochs_1.json, bench/hh_gpu_epochs_2.json   HH-RLHF for 1 and 2 epochs: refusal, over-refusal, loop, length-cap rates
#   bench/ipo_probe_gpu.json         HH-RLHF with the IPO loss, 60 steps, 50 test pairs: the verdict must name the collapse
#   bench/judge.json                 a TRL reward model per run (trained on its training pairs): accuracy and after-vs-before win rate
#   bench/sweep.json                 the grid, chosen on validation, reported on test, the two best settings with 3 seeds
# bash tools/gpu_outcomes.sh [STEP...]   (steps: before_after main hh ipo judge sweep; default: all, in that order)
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 IN_TEST=1
steps=("${@:-before_after main hh ipo judge sweep}")
for step in ${steps[@]}; do
  echo "== $step"; start=$(date +%s)
  case $step in
    before_after) python -m pytest -v -s -p no:cacheprovider tests/test_before_after.py 2>&1 | tee bench/test_gpu_before_after.txt ;;
    main) dpo-course run --output-dir runs/gpu-main ;;
    hh)
      python tools/outcome_runs.py hh runs/hh-1epoch --engine fast --max-steps 125 --out bench/hh_gpu_epochs_1.json &
      python tools/outcome_runs.py hh runs/hh-2epochs --engine fast --max-steps 250 --out bench/hh_gpu_epochs_2.json; wait ;;
    ipo) dpo-course run --data hh-rlhf --loss-type ipo --max-steps 60 --eval-size 50 --output-dir runs/ipo-probe
         python tools/record_run.py runs/ipo-probe bench/ipo_probe_gpu.json ;;
    judge) python tools/judge_runs.py bench/judge.json runs/gpu-main runs/hh-2epochs ;;
    sweep) python tools/outcome_runs.py sweep runs/sweep --processes 6 ;;
    *) echo "unknown step $step"; exit 2 ;;
  esac
  echo "== $step: $(( $(date +%s) - start )) s"
done
