"""Time `train` with engine "trl" and engine "fast" on the same run; writes bench/engines.json.

python tools/bench_engines.py --model DIR [--random-init] [--steps 40] [--out bench/engines.json]
"""
import argparse, json, tempfile, time
from pathlib import Path
import torch
from dpo_course.scale import throughput
from dpo_course.bench import model_maker
from dpo_course.runtime import environment
from dpo_course.train import DPORunConfig, read_metrics, train

def random_model_dir(model:str)->str:
    "A copy of `model`'s config and tokenizer with random weights (same cost as the real ones), built by the bench's `model_maker`."
    make, tok = model_maker(model, True, "cpu", torch.float32)
    out = Path(tempfile.mkdtemp())/"random"
    make().save_pretrained(out); tok.save_pretrained(out)
    return str(out)

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True); p.add_argument("--random-init", action="store_true")
    p.add_argument("--steps", type=int, default=40); p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=8); p.add_argument("--max-length", type=int, default=1024)
    p.add_argument("--out", default="bench/engines.json")
    a = p.parse_args()
    model = random_model_dir(a.model) if a.random_init else a.model
    res = {}
    for engine in ("trl", "fast"):
        if torch.cuda.is_available(): torch.cuda.reset_peak_memory_stats()
        cfg = DPORunConfig(model=model, data="hh-rlhf", limit=1300, eval_size=100, engine=engine, batch_size=a.batch_size,
                           max_length=a.max_length, max_steps=a.steps, logging_steps=1, save_steps=0,
                           output_dir=str(Path(tempfile.mkdtemp())/engine))
        t = time.perf_counter(); r = train(cfg); wall = time.perf_counter() - t
        m = read_metrics(r.run_dir); losses = [x["loss"] for x in m if "loss" in x]
        res[engine] = dict(throughput(m, a.warmup), first_losses=losses[:5], last_loss=losses[-1], wall_s=round(wall, 1))
        del r
    res["speedup_fast_vs_trl"] = res["fast"]["tokens_per_s"] / res["trl"]["tokens_per_s"]
    res["gpu"] = torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
    res["setup"] = (f"tools/bench_engines.py: train() with engine trl and fast, {'random weights in the shape of ' if a.random_init else ''}{a.model}, "
                    f"real HH-RLHF pairs (limit 1300, 100 held out), batch {a.batch_size}, max_length {a.max_length}, {a.steps} steps, "
                    f"tokens/s from metrics.jsonl after {a.warmup} warm-up steps (scale.throughput)")
    res["versions"] = environment()["versions"]
    Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(json.dumps(res, indent=1))
    print(json.dumps({k: res[k] for k in ("trl", "fast", "speedup_fast_vs_trl")}, indent=1))

if __name__ == "__main__": main()
