"""A killed run loses nothing, a diverging run stops cleanly, and nothing reaches the network or runs remote code."""
import json, math, os, signal, subprocess, sys, time
import pytest
import torch
from safetensors.torch import load_file
from netguard import cli_command
from dpo_course.models import ModelSourceError, load_model
from dpo_course.train import DPORunConfig, TrainingDiverged, latest_checkpoint, read_metrics, train

TINY_RUN = ["--limit", "60", "--eval-size", "8", "--batch-size", "4", "--max-steps", "16", "--save-steps", "4",
            "--logging-steps", "1", "--learning-rate", "1e-2"]


def start(tiny_dir, out, *extra):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "IN_TEST": "1"}
    return subprocess.Popen(cli_command("train", "--model", tiny_dir, "--output-dir", out, *TINY_RUN, *extra), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc):
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]
    assert "NETWORK ATTEMPTS" not in err
    return out, err


def test_sigkill_then_resume_equals_an_uninterrupted_run(tiny_dir, tmp_path):
    full, part = tmp_path / "full", tmp_path / "part"
    finish(start(tiny_dir, full))
    proc = start(tiny_dir, part)
    deadline = time.time() + 600
    while not (part / "checkpoint-8").exists() and proc.poll() is None and time.time() < deadline: time.sleep(0.02)
    proc.send_signal(signal.SIGKILL); proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert not (part / "summary.json").exists() and latest_checkpoint(part).name in ("checkpoint-8", "checkpoint-12")
    assert not any("checkpoint-16" in p.name for p in part.iterdir())
    for ckpt in part.glob("checkpoint-*"):  # every checkpoint folder a kill left behind is complete
        assert {"adapter_model.safetensors", "optimizer.pt", "trainer_state.json"} <= {p.name for p in ckpt.iterdir()}
    killed_at = latest_checkpoint(part).name
    finish(start(tiny_dir, part, "--resume"))
    assert json.loads((part / "summary.json").read_text())["resumed_from"] == str(part / killed_at)
    a, b = read_metrics(full), read_metrics(part)
    assert [m["step"] for m in b] == list(range(1, 17)), "metrics.jsonl has duplicated or missing steps"
    for x, y in zip(a, b): assert x["loss"] == pytest.approx(y["loss"], abs=1e-5)
    wa, wb = load_file(full / "adapter" / "adapter_model.safetensors"), load_file(part / "adapter" / "adapter_model.safetensors")
    assert wa.keys() == wb.keys() and all(torch.allclose(wa[k], wb[k], atol=1e-5) for k in wa)
    assert not (part / ".staging").exists()


def test_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tiny_dir, tmp_path):
    "A fault that turns the logits to NaN from the 5th forward pass on (as an fp16 overflow would) stops the run."
    model, tok = load_model(str(tiny_dir))
    calls = []
    def poison(module, args, out):
        calls.append(1)
        return out * float("nan") if len(calls) > 2 * 3 else out  # one policy + one reference pass per step: steps 1-3 are fine
    model.model.norm.register_forward_hook(poison)  # the final hidden states (TRL computes log-probs from them in chunks)
    cfg = DPORunConfig(model=str(tiny_dir), output_dir=str(tmp_path / "run"), limit=40, eval_size=8, batch_size=4, max_steps=8,
                       save_steps=2, logging_steps=1, engine="trl")  # the hook counts TRL's passes (the fast engine's case: test_bad_input)
    with pytest.raises(TrainingDiverged) as e: train(cfg, model, tok)
    msg = str(e.value)
    assert msg.startswith("step 4: the loss is nan") and "learning rate too high" in msg, msg
    assert f"Last good checkpoint: {tmp_path / 'run' / 'checkpoint-2'}" in msg
    ckpt = load_file(tmp_path / "run" / "checkpoint-2" / "adapter_model.safetensors")
    assert all(torch.isfinite(t).all() for t in ckpt.values())
    assert not (tmp_path / "run" / "summary.json").exists()
    assert [m["step"] for m in read_metrics(tmp_path / "run")] == [1, 2, 3] and all(math.isfinite(m["loss"]) for m in read_metrics(tmp_path / "run"))


def test_main_job_offline_makes_no_network_connection(tiny_dir, tmp_path):
    "`dpo-course run` (train + before/after eval) with sockets blocked and HF_HUB_OFFLINE=1, on the offline data copy."
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "IN_TEST": "1"}
    res = subprocess.run(cli_command("run", "--model", tiny_dir, "--output-dir", tmp_path / "run", "--limit", "24", "--eval-size", "8",
                                     "--max-steps", "2", "--batch-size", "4"), env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "NETWORK ATTEMPTS" not in res.stderr and "wall time" in res.stdout
    assert (tmp_path / "run" / "eval.json").exists()


def test_default_model_offline_makes_no_network_connection():
    "The real model's offline path (GGUF copy, converted once) loads with sockets blocked."
    res = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, 'tests'); import netguard; netguard.install(True); "
                          "from dpo_course.models import load_model; m, t = load_model(); print(m.num_parameters())"],
                         env={**os.environ, "HF_HUB_OFFLINE": "1"}, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0 and res.stdout.strip() == "134515008", res.stderr[-2000:]
    assert "NETWORK ATTEMPTS" not in res.stderr and "model source: offline copy" in res.stderr


def test_remote_code_is_never_run(tiny_dir, tmp_path):
    "A model directory that asks for custom code (`auto_map`) loads with the built-in class; its code never runs."
    import shutil
    d = tmp_path / "evil"
    shutil.copytree(tiny_dir, d)
    marker = tmp_path / "remote-code-ran"
    (d / "modeling_evil.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\nfrom transformers import LlamaForCausalLM as EvilForCausalLM\n")
    cfg = json.loads((d / "config.json").read_text())
    cfg["auto_map"] = {"AutoModelForCausalLM": "modeling_evil.EvilForCausalLM"}
    (d / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelSourceError, match="auto_map"): load_model(str(d))
    assert not marker.exists()
    # through the command line, with "y" piped in as if answering transformers' "run the custom code?" prompt
    res = subprocess.run(cli_command("generate", "hi", "--model", d), input="y\ny\n", capture_output=True, text=True, timeout=300)
    assert res.returncode == 2 and "never runs code from a model folder" in res.stderr.splitlines()[-1], res.stderr[-2000:]
    assert not marker.exists()


def test_a_staging_link_to_another_run_deletes_nothing(tiny_dir, tmp_path):
    "An unfinished run whose .staging links to a finished run: --resume stops with one line, and the finished run keeps its adapter."
    done, broken = tmp_path / "done", tmp_path / "broken"
    finish(start(tiny_dir, done, "--max-steps", "4"))
    proc = start(tiny_dir, broken, "--max-steps", "4"); finish(proc)
    (broken / "summary.json").unlink(); shutil_rm(broken / "adapter"); (broken / ".staging").symlink_to(done)
    proc = start(tiny_dir, broken, "--max-steps", "4", "--resume")
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 2 and ".staging is a link" in err and "Traceback" not in err, err[-2000:]
    assert (done / "adapter" / "adapter_model.safetensors").exists()


def shutil_rm(path):
    import shutil; shutil.rmtree(path)


def test_two_processes_cannot_write_one_run_directory(tiny_dir, tmp_path):
    "A second `train` into a run directory another process is writing stops at once with one line, while the first goes on."
    first = start(tiny_dir, tmp_path / "r", "--max-steps", "100000", "--save-steps", "0", "--logging-steps", "1000")  # busy for the whole test
    deadline = time.time() + 300
    while not (tmp_path / "r" / "config.toml").exists() and time.time() < deadline: time.sleep(0.05)
    second = start(tiny_dir, tmp_path / "r", "--resume")
    out, err = second.communicate(timeout=600)
    still_running = first.poll() is None
    first.kill(); first.communicate()
    assert still_running, "the first run ended before the second started: the test did not test the lock"
    assert second.returncode == 2 and "another process is writing" in err and "Traceback" not in err, err[-2000:]
