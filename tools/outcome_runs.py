"""The runs behind the course's outcome results, on one GPU: the instruction-data sweep (bench/sweep.json) and the HH-RLHF run (bench/hh_gpu.json).

python tools/outcome_runs.py hh runs/hh                      # HH-RLHF harmless-base: 2 epochs, 300 held out -> bench/hh_gpu.json
python tools/outcome_runs.py hh runs/hh-fast --engine fast --out bench/hh_gpu_fast.json   # the same run with the fast engine
python tools/outcome_runs.py hh runs/hh-unsloth --use-unsloth yes --out bench/hh_gpu_unsloth.json   # ... with Unsloth (TRL engine)
python tools/outcome_runs.py hh runs/hh-eager --engine fast --fast-options compile=False --out bench/hh_gpu_fast_eager.json   # ... one of the fast engine's switches changed
python tools/outcome_runs.py hh runs/hh-4bit --use-unsloth no --load-in-4bit --out bench/hh_gpu_4bit.json   # ... with 4-bit base weights
python tools/outcome_runs.py sweep runs/sweep --processes 6  # the instruction-data grid, 6 runs at a time
python tools/outcome_runs.py sweep runs/sweep2 --processes 6 --keep bench/sweep.json  # only the grid points the file lacks
python tools/outcome_runs.py collect runs/sweep              # rows of every finished sweep run -> bench/sweep.json
Every sweep run is measured on its validation pairs (what the default is chosen on) and its test pairs (what is reported); after the grid,
the chosen setting and its runner-up (by validation) run again with seeds 1 and 2 (same splits: split_seed stays 0).
python tools/outcome_runs.py runs bench/hh_gpu_runs.json --inputs out/*.json   # the timings of several HH runs' files -> one file
"""
import argparse, json, sys
from dataclasses import asdict, replace
from pathlib import Path
from dpo_course.evaluate import train_and_evaluate
from dpo_course.models import environment
from dpo_course.sweep import SWEEP_KEYS, DPORunConfig, choose_default, grid, read_row, run_name, runner_up, sweep, sweep_table, write_sweep
from dpo_course.train import read_metrics

HH = dict(data="hh-rlhf", engine="trl", eval_size=300, max_steps=250, batch_size=16, max_length=1024, learning_rate=5e-4, beta=0.1, sft_weight=0.0,
          save_steps=0, logging_steps=5)
# the main job's run (instruction data, 8 pairs a step, 256 tokens, 100 held out) at each point of the grid
GRID = [dict(learning_rate=(1e-4, 3e-4, 1e-3), beta=(0.1, 0.5), sft_weight=(0.0, 1.0), max_steps=(44,)),
        dict(learning_rate=(3e-4, 1e-3), beta=(0.1,), sft_weight=(0.0, 1.0), max_steps=(22,)),
        dict(learning_rate=(5e-4,), beta=(0.1,), sft_weight=(0.0, 0.2), max_steps=(44,)),
        dict(learning_rate=(1e-3,), beta=(0.1, 0.5), sft_weight=(0.2,), max_steps=(44,)),
        dict(learning_rate=(1e-3,), beta=(0.1,), sft_weight=(0.5,), max_steps=(44,))]

def hh(root:str, out:str="bench/hh_gpu.json", **over):
    "The HH run (2 epochs: 250 steps of 16 pairs; --max-steps 125 for 1 epoch) with refusal, over-refusal, loop and length-cap rates before/after."
    cfg = DPORunConfig(**{**HH, "output_dir": root, **over})
    rep = train_and_evaluate(cfg, n_generations=5, n_prompts=100, max_new_tokens=128)
    res = dict(environment(), command=" ".join(sys.argv), config=cfg.__dict__, report=rep, metrics=read_metrics(root))
    Path(out).write_text(json.dumps(res, indent=1)); print(f"wrote {out}")

def option_changes(text:str)->dict:
    "The switches of `--fast-options` text (`key=value,…`): true/false, numbers, else the text itself (layout=rows)."
    def value(v:str):
        try: return json.loads(v.lower() if v.lower() in ("true", "false") else v)
        except json.JSONDecodeError: return v
    return {k: value(v) for k, v in (kv.split("=") for kv in text.split(","))}

def change_fast_options(text:str):
    "Make the fast engine's runs in this process use `run_options` with `text`'s changes (`key=value,…`)."
    from dpo_course import fast_train
    changes = option_changes(text)
    chosen = fast_train.run_options
    fast_train.run_options = lambda cfg, device: replace(chosen(cfg, device), **changes)

def configs(root:str, **over):
    base = DPORunConfig(output_dir=root, save_steps=0, logging_steps=4)
    return [replace(c, **over) for axes in GRID for c in grid(base, **axes)]

def collect(root:str, out:str="bench/sweep.json", keep:list=()):
    dirs = sorted(p.parent for p in Path(root).glob("*/eval.json"))
    rows = list(keep) + [read_row(d) for d in dirs]
    write_sweep(rows, out, command=f"python tools/outcome_runs.py sweep {root} (grid {GRID})")
    print(sweep_table(rows)); print(f"wrote {out} ({len(rows)} runs)")

def hh_runs(out:str, inputs:list):
    "One file of the HH runs in `inputs` (files `hh` wrote): per run its command, switches, wall time and parts, and held-out results."
    from dpo_course.fast_train import FastOptions
    def switches(r:dict, s:dict)->dict|None:  # the fast engine's switches, all of them: as recorded, or from the command (runs from before that record)
        if s["engine"] != "fast": return None
        if s.get("fast_switches"): return {**asdict(FastOptions()), **s["fast_switches"]}
        changes = option_changes(r["command"].split("--fast-options ")[1]) if "--fast-options" in r["command"] else {}
        return {**asdict(replace(FastOptions.best("cuda"), record_from=2)), **changes}
    def row(f:Path):
        r = json.loads(f.read_text()); rep, s = r["report"], r["report"]["summary"]
        return dict(name=f.stem, date=r["date"], machine=r["machine"], versions=r["versions"], command=r["command"], engine=s["engine"],
                    switches=switches(r, s), switches_recorded=bool(s.get("fast_switches")), wall_s=rep["wall_s"], train_call_s=rep["train_call_s"], train_seconds=s["train_seconds"],
                    engine_seconds=s.get("engine_seconds"), eval_seconds=rep["eval_seconds"], peak_gib=s.get("peak_gib"), steps=s["steps"],
                    implicit_reward=rep["implicit_reward"], likelihood_gain=rep["likelihood_gain"])
    rows = [row(Path(f)) for f in inputs]
    Path(out).write_text(json.dumps(dict(what="the HH run of tools/outcome_runs.py hh (2 epochs, 250 steps of 16 pairs, 300 held out), end to end in one "
                                         "process each; switches: the fast engine's switches, as the run recorded them (switches_recorded) or, for runs "
                                         "from before that record, FastOptions.best with record_from=2 and the command's --fast-options",
                                         runs=rows), indent=1))
    for r in rows: print(f"{r['name']:24} {r['engine']:5} wall {r['wall_s']:6.1f} s  train {r['train_seconds']:6.1f} s  {r['engine_seconds']}")
    print(f"wrote {out}")

if __name__ == "__main__":
    p = argparse.ArgumentParser(); p.add_argument("what", choices=("hh", "sweep", "collect", "runs")); p.add_argument("root")
    p.add_argument("--processes", type=int, default=1); p.add_argument("--out")
    p.add_argument("--smoke", action="store_true", help="a few steps and pairs per run, to check the plumbing")
    p.add_argument("--inputs", nargs="*", help="runs: the files of HH runs to put in one file (the root argument)")
    p.add_argument("--keep", help="a sweep file whose runs are kept and not run again")
    p.add_argument("--engine", help="hh: the training engine (default: trl)")
    p.add_argument("--use-unsloth", choices=("auto", "yes", "no"), help="hh: Unsloth's model and adapters (default: no)")
    p.add_argument("--load-in-4bit", action="store_true", help="hh: 4-bit base weights (QLoRA)")
    p.add_argument("--fast-options", help="hh: the fast engine's switches changed from run_options, e.g. compile=False,reference_batch=0")
    p.add_argument("--max-steps", type=int, help="hh: steps (default 250 = 2 epochs; 125 = 1 epoch)")
    p.add_argument("--loss-type", help="hh: the loss (default sigmoid), e.g. ipo")
    p.add_argument("--eval-size", type=int, help="hh: test pairs (default 300)")
    a = p.parse_args()
    if a.fast_options: change_fast_options(a.fast_options)
    over = dict(max_steps=2, eval_size=8, limit=40) if a.smoke else {}
    if a.what == "hh": hh(a.root, a.out or "bench/hh_gpu.json", **({**over, "max_length": 512} if a.smoke else {}), **({"engine": a.engine} if a.engine else {}),
                         use_unsloth=a.use_unsloth or "no", load_in_4bit=a.load_in_4bit,
                         **{k: v for k, v in dict(max_steps=a.max_steps, loss_type=a.loss_type, eval_size=a.eval_size).items() if v is not None})
    elif a.what == "runs": hh_runs(a.root, a.inputs)
    elif a.what == "sweep":
        keep = json.loads(Path(a.keep).read_text())["rows"] if a.keep else []
        done = {run_name(DPORunConfig(**{k: r[k] for k in SWEEP_KEYS if k in r})) for r in keep}
        cfgs = [c for c in configs(a.root, **over) if run_name(c) not in done]
        sweep(cfgs[:2] if a.smoke else cfgs, processes=a.processes)
        rows = list(keep) + [read_row(p.parent) for p in sorted(Path(a.root).glob("*/eval.json"))]
        reruns = [replace(DPORunConfig(**{**{k: r[k] for k in SWEEP_KEYS if k in r}, "save_steps": 0, "logging_steps": 4, **over}), seed=seed)
                  for r in (choose_default(rows), runner_up(rows)) if r is not None for seed in (1, 2)]
        sweep([replace(c, output_dir=str(Path(a.root)/run_name(c))) for c in reruns if not (Path(a.root)/run_name(c)/"eval.json").exists()], processes=a.processes)
        collect(a.root, a.out or "bench/sweep.json", keep)
    else: collect(a.root, a.out or "bench/sweep.json")
