"""Scale-out: the same run on 2 CPU processes (gloo, through accelerate launch) equals the 1-process run; configs parse; bench --processes works."""
import json, os, subprocess
from pathlib import Path
import pytest
from dpo_course.cli import main
from dpo_course.scale import LAUNCH_CONFIGS, compare_runs, launch_argv, launch_plan

HERE = Path(__file__).parent
# plain DPO (--sft-weight 0): the SFT term averages its NLL over each process's own tokens, so it is not exactly the same under DDP;
# the TRL engine in both (one CPU process alone would pick the fast engine)
RUN = ["train", "--engine", "trl", "--limit", "60", "--eval-size", "8", "--max-steps", "6", "--logging-steps", "1", "--save-steps", "3", "--learning-rate", "1e-2", "--sft-weight", "0"]


def guarded_env():
    "Environment for launched processes: offline, one thread each, the network guard installed in every Python."
    return {**os.environ, "HF_HUB_OFFLINE": "1", "IN_TEST": "1", "OMP_NUM_THREADS": "1",
            "PYTHONPATH": os.pathsep.join([str(HERE/"guarded"), str(HERE), os.environ.get("PYTHONPATH", "")])}


def launch(tiny_dir, processes, batch, out, config):
    p = subprocess.run(launch_argv(processes, *RUN, "--model", tiny_dir, "--batch-size", batch, "--output-dir", out, config=config),
                       env=guarded_env(), capture_output=True, text=True, timeout=600, cwd=out.parent)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "NETWORK ATTEMPTS" not in p.stderr
    return p


def test_two_cpu_processes_equal_one_process_with_the_same_global_batch(tiny_dir, tmp_path):
    one = launch(tiny_dir, 1, 4, tmp_path/"one", "single_gpu")
    two = launch(tiny_dir, 2, 2, tmp_path/"two", "ddp")
    diff = compare_runs(tmp_path/"one", tmp_path/"two")
    assert diff["steps"] == 6
    assert diff["loss"] < 1e-5, diff           # measured 2.4e-7
    assert diff["adapter"] < 1e-4, diff        # measured 7.7e-6 on weights up to ~0.14
    summary = json.loads((tmp_path/"two"/"summary.json").read_text())
    assert (summary["processes"], summary["effective_batch"]) == (2, 4)
    assert json.loads((tmp_path/"one"/"summary.json").read_text())["effective_batch"] == 4
    # one run directory, written once: nothing else appeared, the checkpoints hold both processes' RNG states
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one", "two"]
    assert sorted(p.name for p in (tmp_path/"two").iterdir() if p.name.startswith("checkpoint")) == ["checkpoint-3", "checkpoint-6"]
    assert {"rng_state_0.pth", "rng_state_1.pth"} <= {p.name for p in (tmp_path/"two"/"checkpoint-6").iterdir()}
    assert not (tmp_path/"two"/".staging").exists()
    # logging is not duplicated: every course log line appears once
    lines = [l for l in two.stderr.splitlines() if l.startswith("[dpo-course]")]
    assert lines and len(lines) == len(set(lines)), lines
    assert any("2 processes x 1 accumulation = 4 pairs per optimizer step" in l for l in lines)
    assert two.stdout.count('"effective_batch"') == 1  # the summary is printed by rank 0 only


@pytest.mark.parametrize("name", LAUNCH_CONFIGS)
def test_launch_configs_pass_accelerates_own_validation(name):
    plan = launch_plan(name)
    expected = {"single_gpu": "NO", "ddp": "MULTI_GPU", "fsdp_lora": "FSDP", "deepspeed_zero2": "DEEPSPEED", "multi_node": "MULTI_GPU"}
    assert plan["type"] == expected[name]
    assert plan["num_processes"] >= 1
    if name == "fsdp_lora": assert plan["env"]["FSDP_USE_ORIG_PARAMS"] == "true" and plan["env"]["FSDP_STATE_DICT_TYPE"] == "FULL_STATE_DICT"
    if name == "deepspeed_zero2": assert plan["env"]["ACCELERATE_DEEPSPEED_ZERO_STAGE"] == "2"
    if name == "multi_node": assert plan["num_machines"] == 2 and plan["main_process"] == "10.0.0.1:29500"


def test_bench_processes_reports_scaling_efficiency(tiny_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PYTHONPATH", guarded_env()["PYTHONPATH"])
    out = tmp_path/"scaling.json"
    assert main(["bench", "--processes", "2", "--model", str(tiny_dir), "--data", "instruction", "--steps", "3", "--warmup", "1",
                 "--max-length", "128", "--pairs-per-step", "2", "--out", str(out)]) == 0
    res = json.loads(out.read_text())
    assert [r["processes"] for r in res["runs"]] == [1, 2]
    one, two = res["runs"]
    assert one["efficiency"] == 1.0 and two["efficiency"] == pytest.approx(two["tokens_per_s"] / (2 * one["tokens_per_s"]), abs=1e-3)
    assert two["effective_batch"] == 4 and all(r["tokens_per_s"] > 0 for r in res["runs"])
    assert "| processes | tokens/s |" in capsys.readouterr().out
