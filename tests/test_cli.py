import subprocess, sys
from pathlib import Path
import pytest
from dpo_course.cli import main

SCRIPT = Path(sys.executable).parent / "dpo-course"  # the installed console script


def dpo_course(*args):
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=300)


def test_help(capsys):
    res = dpo_course("--help")  # the installed console script, once
    assert res.returncode == 0 and "run" in res.stdout
    for cmd, flag in [("run", "--max-steps"), ("train", "--config"), ("eval", "run_dir"), ("generate", "--adapter"), ("bench", "--random-init"), ("bench", "--processes"), ("launch-config", "fsdp_lora")]:
        with pytest.raises(SystemExit) as e: main([cmd, "--help"])  # each command's help from the same parser, in this process
        assert e.value.code == 0 and flag in capsys.readouterr().out, cmd


def test_nonexistent_config_exits_2_with_one_line(tmp_path):
    res = dpo_course("train", "--config", str(tmp_path / "nope.toml"))
    assert res.returncode == 2 and res.stderr.strip().splitlines() == [f"dpo-course: error: config file not found: {tmp_path / 'nope.toml'}"]


def test_eval_without_adapter_exits_2(tmp_path):
    res = dpo_course("eval", str(tmp_path))
    assert res.returncode == 2 and "holds no trained adapter" in res.stderr


def test_bad_usage_exits_2_with_one_line():
    res = dpo_course("fly")
    assert res.returncode == 2 and res.stderr.strip().splitlines()[-1].startswith("dpo-course: error:")


def test_missing_model_dir_exits_2_with_one_line(tmp_path):
    res = dpo_course("train", "--model", "./no-such-model", "--output-dir", str(tmp_path / "run"))
    assert not (tmp_path / "run").exists()  # nothing written
    res = dpo_course("generate", "hi", "--model", "./no-such-model")
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dpo-course: error: Model directory not found: ./no-such-model")


def test_eval_needs_a_run_dir_or_adapter_and_data():
    res = dpo_course("eval")
    assert res.returncode == 2 and res.stderr.strip().splitlines() == ["dpo-course: error: give a run directory, or both --adapter and --data"]


def test_train_then_eval_run_dir_and_adapter(tok, tmp_path):
    "A tiny model saved to disk goes through `train` and both forms of `eval` from the command line."
    from dpo_course.models import tiny_model
    model_dir = tmp_path / "tiny"
    tiny_model(tok).save_pretrained(model_dir); tok.save_pretrained(model_dir)
    run = tmp_path / "run"
    res = dpo_course("train", "--model", str(model_dir), "--output-dir", str(run), "--limit", "24", "--eval-size", "8",
                     "--max-steps", "2", "--batch-size", "4", "--logging-steps", "1")
    assert res.returncode == 0, res.stderr[-2000:]
    assert '"steps": 2' in res.stdout
    res = dpo_course("eval", str(run))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "| measure (8 held-out pairs)" in res.stdout
    res = dpo_course("eval", "--adapter", str(run / "adapter"), "--data", "instruction", "--model", str(model_dir), "--limit", "12")
    assert res.returncode == 0, res.stderr[-2000:]
    assert "| measure (12 held-out pairs)" in res.stdout


def test_bench_flags_follow_the_bench_signature():
    "Every parameter of `bench` is a flag of `dpo-course bench` (bools as --x/--no-x, tuples as comma lists), with its comment as help."
    import inspect
    from dpo_course.bench import bench
    from dpo_course.cli import build_parser
    res = dpo_course("bench", "--help")
    for name in inspect.signature(bench).parameters: assert "--" + name.replace("_", "-") in res.stdout, name
    assert "--no-ablations" in res.stdout and "larger batches tried for ours" in res.stdout
    a = build_parser().parse_args(["bench", "--best-batches", "32,64", "--no-trl-switches", "--time-limit-s", "90"])
    assert (a.best_batches, a.trl_switches, a.time_limit_s, a.steps) == ((32, 64), False, 90.0, 18)


def test_generate_refuses_a_length_of_zero_in_one_line(capsys):
    from dpo_course.cli import main
    for n in ("0", "-5"):
        with pytest.raises(SystemExit) as stop: main(["generate", "hi", "--max-new-tokens", n])
        assert stop.value.code == 2 and "--max-new-tokens: must be > 0" in capsys.readouterr().err
