"""One DPO step on a CPU with the real SmolLM2 weights and the main job's data and settings (8 pairs, 256 tokens): the fast engine in
each layout (which `FastOptions.best("cpu")` should pick) and TRL's `DPOTrainer` (the bench's `time_trl`). Writes bench/cpu_layouts.json
(date, machine, cores, versions); a second call adds its rows to the file's.

python tools/cpu_layouts.py                 # packed, shared and rows, 4 steps each
python tools/cpu_layouts.py trl             # TRL: 1 warm-up step, then 3 timed
python tools/cpu_layouts.py packed:bf16     # a layout with the weights in bf16 (fast on CPUs with AMX or AVX512-BF16)
python tools/cpu_layouts.py main:fast       # the whole main job (train and evaluate, defaults) with that engine: its wall time and parts
python tools/cpu_layouts.py main:auto       # ... with the defaults' own choice (`make main`: the fast engine, bf16 weights where the CPU has bf16 units)
"""
import json, sys, time
from pathlib import Path
import torch
from dpo_course.fast_train import FastOptions, build_fast
from dpo_course.lora import apply_lora, lora_config
from dpo_course.models import load_model
from dpo_course.runtime import environment
from dpo_course.speed import batch_order, real_tokens, tokenize_pairs
from dpo_course.train import DPORunConfig, run_pairs

def main(layouts=("packed", "shared"), steps:int=4, out="bench/cpu_layouts.json"):
    model, tok = load_model(device="cpu")
    items = tokenize_pairs(run_pairs(DPORunConfig())[0], tok, 256)
    order = batch_order(len(items), 8, steps, seed=0)
    old = json.loads(Path(out).read_text()) if Path(out).exists() else {}
    res = dict(environment(), threads=torch.get_num_threads(), command=" ".join(["python", *sys.argv]), pairs_per_step=8, max_length=256,
               layouts=old.get("layouts", {}), jobs=old.get("jobs", {}))  # jobs: whole main-job runs, by engine
    for layout in layouts:
        if layout.startswith("main:"):
            from dpo_course.evaluate import train_and_evaluate
            t = time.perf_counter(); rep = train_and_evaluate(DPORunConfig(engine=layout[5:], output_dir=f"runs/cpu-main-{layout[5:]}"))
            res["jobs"][layout[5:]] = dict(wall_s=round(time.perf_counter() - t, 1), train_s=rep["summary"]["train_seconds"], engine_seconds=rep["summary"].get("engine_seconds"),
                                          eval_seconds=rep["eval_seconds"], likelihood_gain=rep["likelihood_gain"], fidelity_change=rep.get("fidelity_change"), kl=rep["kl"],
                                          engine=rep["summary"]["engine"], dtype=rep["summary"]["dtype"])
            print(layout, res["jobs"][layout[5:]], flush=True); continue
        if layout == "trl":
            from dpo_course.bench import model_maker, time_trl
            make, _ = model_maker("HuggingFaceTB/SmolLM2-135M-Instruct", False, "cpu", torch.float32)
            r = time_trl(make, tok, run_pairs(DPORunConfig())[0], 8, 1, False, steps - 1, 1, 256, 5e-4)[0]
            res["layouts"]["trl"] = dict(engine="TRL DPOTrainer", step_s=[round(r["sec_per_step"], 2)] * (steps - 1), tokens_per_s=round(r["tokens_per_s"]))
            print("trl", res["layouts"]["trl"], flush=True); continue
        name, layout = layout, layout.split(":")[0]
        dtype = torch.bfloat16 if name.endswith(":bf16") else torch.float32
        torch.manual_seed(0); m = apply_lora(load_model(device="cpu", dtype=dtype)[0], lora_config())
        with build_fast(m, items, FastOptions(layout=layout), lr=5e-4, max_steps=steps, pad_id=tok.pad_token_id) as f:
            t = time.perf_counter(); ref = f.reference(items, order); ref_s = time.perf_counter() - t
            times = []
            for b in order:
                t = time.perf_counter(); float(f.step([items[i] for i in b], ref[b])["loss"]); times.append(time.perf_counter() - t)
        tokens = real_tokens([items[i] for b in order for i in b])
        res["layouts"][name] = dict(engine=type(f).__name__, dtype=str(dtype).split(".")[-1], reference_s=round(ref_s, 2), step_s=[round(x, 2) for x in times], tokens_per_s=round(tokens / sum(times)))
        print(name, res["layouts"][name], flush=True)
    Path(out).write_text(json.dumps(res, indent=1)); print(f"wrote {out}")

if __name__ == "__main__": main(tuple(sys.argv[1:]) or ("packed", "shared", "rows"))
