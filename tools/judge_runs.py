"""A reward model as judge of finished runs: trained with TRL's RewardTrainer on each run's training pairs only, then
(1) its accuracy on the run's test pairs beside DPO's implicit-reward accuracy on the same pairs, and
(2) its pairwise win rate of the run's after-answers over its before-answers on the test prompts (ties counted as half), with intervals.

python tools/judge_runs.py bench/judge.json runs/main runs/hh     # one entry per run directory (each with eval.json and config.toml)
"""
import json, sys, tempfile, time
from pathlib import Path
import numpy as np
from dpo_course.evaluate import mean_ci
from dpo_course.judge import pair_wins, train_reward_model, win_scores
from record_run import measured_on
from dpo_course.train import DPORunConfig, run_pairs

def judge(run_dir:Path, **rm)->dict:
    cfg = DPORunConfig.from_toml(run_dir/"config.toml", output_dir=str(run_dir))
    rep = json.loads((run_dir/"eval.json").read_text())
    train, test = run_pairs(cfg)[:2]
    t = time.perf_counter()
    model, tok, log = train_reward_model(train, Path(tempfile.mkdtemp()), cfg.model, max_length=min(cfg.max_length, 1024), seed=cfg.seed, **rm)
    trained = time.perf_counter() - t
    acc = pair_wins(model, tok, test, max_length=min(cfg.max_length, 1024))
    ans = rep["answers"]
    wins = win_scores(model, tok, [a["prompt"] for a in ans], [a["after"] for a in ans], [a["before"] for a in ans])
    return dict(run=str(run_dir), data=cfg.data, engine=rep["summary"]["engine"], steps=rep["summary"]["steps"], train_pairs=len(train), test_pairs=len(test),
                reward_model=dict(train_seconds=round(trained, 1), steps=len(log), first_loss=log[0]["loss"] if log else None, last_loss=log[-1]["loss"] if log else None),
                reward_model_accuracy=mean_ci(acc), implicit_reward_accuracy=rep["implicit_reward"],
                win_rate_after_vs_before=mean_ci(wins), prompts=len(wins), wins=int((wins == 1).sum()), ties=int((wins == 0.5).sum()), losses=int((wins == 0).sum()))

if __name__ == "__main__":
    out, dirs = sys.argv[1], sys.argv[2:]
    runs = [judge(Path(d)) for d in dirs]
    Path(out).write_text(json.dumps(dict(measured_on(), command="python " + " ".join(sys.argv), runs=runs), indent=1))
    for r in runs: print(f"{r['run']}: RM accuracy {r['reward_model_accuracy']}, implicit {r['implicit_reward_accuracy']['acc']:.3f}, "
                         f"win rate {r['win_rate_after_vs_before']} ({r['wins']} wins, {r['ties']} ties, {r['losses']} losses)")
    print(f"wrote {out}")
