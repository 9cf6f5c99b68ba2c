"""The GPU paths, each through the `dpo-course` command in its own process: Unsloth, 4-bit weights (QLoRA), the fast engine on the
full HH-RLHF training set (with Unsloth importable and without), and TRL. `make test-gpu` runs them on a GPU machine."""
import importlib.util, json, os, subprocess, sys
from pathlib import Path
import pytest, torch

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU: `make test-gpu` runs these on a GPU machine")
UNSLOTH = importlib.util.find_spec("unsloth") is not None
HIDEABLE = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and (Path(p)/"unsloth").is_dir()]  # Unsloth's own folder
HH = ["--data", "hh-rlhf", "--eval-size", "300"]


def command(args, out, hide_unsloth=False):
    "The `dpo-course` command line `args` as a process writing into `out` (`hide_unsloth`: with Unsloth's folder off PYTHONPATH)."
    env = dict(os.environ, IN_TEST="1")
    if hide_unsloth: env["PYTHONPATH"] = os.pathsep.join(p for p in env["PYTHONPATH"].split(os.pathsep) if p not in HIDEABLE)
    return subprocess.Popen([sys.executable, "-m", "dpo_course.cli", *args, "--output-dir", str(out)], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def finish(proc, out)->dict:
    "Wait for `proc`; its run's summary (and eval.json, when it evaluated)."
    log = proc.communicate(timeout=1200)[0]
    assert proc.returncode == 0, log[-4000:]
    res = json.loads((Path(out)/"summary.json").read_text())
    if (Path(out)/"eval.json").exists(): res["eval"] = json.loads((Path(out)/"eval.json").read_text())
    return res | {"log": log}


@pytest.mark.skipif(not UNSLOTH, reason="Unsloth is not installed (pip install -c constraints-gpu.txt '.[gpu]')")
def test_unsloth_trains_lora_adapters_and_evaluates(tmp_path):
    s = finish(command(["run", *HH, "--use-unsloth", "yes", "--max-steps", "10", "--batch-size", "16", "--max-length", "1024"], tmp_path/"u"), tmp_path/"u")
    print(f"\nUnsloth: {s['trainable_params']:,} trainable, {s['steps']} steps in {s['train_seconds']} s, peak {s['peak_gib']} GiB")
    assert s["unsloth"] and s["engine"] == "trl"
    assert s["trainable_params"] == 4_884_480  # LoRA r16 on the seven projections of 30 layers, not every linear weight
    assert 0 <= s["eval"]["implicit_reward"]["acc"] <= 1 and s["eval"]["pairs"] == 300


def test_4bit_weights_train_evaluate_and_use_less_memory(tmp_path):
    short = ["--max-steps", "10", "--eval-size", "40", "--use-unsloth", "no"]
    full = finish(command(["train", *short], tmp_path/"bf16"), tmp_path/"bf16")
    q = finish(command(["run", *short, "--load-in-4bit"], tmp_path/"q4"), tmp_path/"q4")
    print(f"\npeak memory, 10 steps: 16-bit weights {full['peak_gib']} GiB, 4-bit weights (QLoRA) {q['peak_gib']} GiB")
    assert q["load_in_4bit"] and not full["load_in_4bit"] and q["eval"]["pairs"] == 40
    assert q["peak_gib"] < full["peak_gib"], (q["peak_gib"], full["peak_gib"])


FAST = [("bs8", ["--batch-size", "8", "--max-steps", "250"]), ("bs16-1024", ["--batch-size", "16", "--max-length", "1024", "--max-steps", "125"])]

def test_fast_engine_trains_on_the_full_hh_file(tmp_path):
    "One epoch (every training pair's reference is computed), batch 8 and batch 16 at 1024 tokens, with and without Unsloth importable; run side by side."
    hides = [False] + ([True] if UNSLOTH and HIDEABLE else [])
    procs = {(name, hide): (command(["run", *HH, "--engine", "fast", *args, "--save-steps", "0"], tmp_path/f"{name}-{hide}", hide), tmp_path/f"{name}-{hide}")
             for name, args in FAST for hide in hides}
    for (name, hide), (proc, out) in procs.items():
        s = finish(proc, out)
        print(f"\n{name}, Unsloth {'hidden' if hide else 'importable'}: {s['steps']} steps in {s['train_seconds']} s, job {s['eval']['wall_s']} s, "
              f"implicit-reward accuracy {s['eval']['implicit_reward']['acc']:.3f}, peak {s['peak_gib']} GiB")
        assert s["engine"] == "fast" and not s["unsloth"] and s["trainable_params"] == 4_884_480, name
        assert s["eval"]["pairs"] + s["eval"]["unscored_truncated"] == 300 and s["train_pairs"] + s["no_answer_token"] == 1899, name


@pytest.mark.skipif(not UNSLOTH, reason="Unsloth is not installed")
def test_fast_engine_refuses_a_process_that_imported_unsloth(tmp_path):
    code = "import unsloth, sys; from dpo_course.cli import main; sys.exit(main(sys.argv[1:]))"
    p = subprocess.run([sys.executable, "-c", code, "train", "--engine", "fast", "--max-steps", "2", "--output-dir", str(tmp_path/"r")],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 2 and "can't run in a process that imported Unsloth" in p.stderr, p.stderr[-2000:]
    assert not (tmp_path/"r").exists()


def test_main_job_on_a_gpu_is_no_slower_than_trl(tmp_path):
    "The main job with its defaults (engine 'auto') and the same job with --engine trl, one after the other: the same engine, and a wall time within 10%."
    auto = finish(command(["run"], tmp_path/"auto"), tmp_path/"auto")
    trl = finish(command(["run", "--engine", "trl"], tmp_path/"trl"), tmp_path/"trl")
    print(f"\nmain job wall time: defaults (engine {auto['engine']}) {auto['eval']['wall_s']} s; --engine trl {trl['eval']['wall_s']} s")
    assert auto["engine"] == "trl" and auto["trainable_params"] == 4_884_480 and auto["eval"]["pairs"] == trl["eval"]["pairs"]
    assert auto["eval"]["wall_s"] <= 1.1 * trl["eval"]["wall_s"], (auto["eval"]["wall_s"], trl["eval"]["wall_s"])
