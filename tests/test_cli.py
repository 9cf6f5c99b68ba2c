import subprocess, sys
from pathlib import Path

SCRIPT = Path(sys.executable).parent / "dpo-course"  # the installed console script


def dpo_course(*args):
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=300)


def test_help():
    res = dpo_course("--help")
    assert res.returncode == 0 and "run" in res.stdout
    res = dpo_course("run", "--help")
    assert res.returncode == 0 and "--model" in res.stdout


def test_bad_usage_exits_2_with_one_line():
    res = dpo_course("fly")
    assert res.returncode == 2 and res.stderr.strip().splitlines()[-1].startswith("dpo-course: error:")


def test_missing_model_dir_exits_2_with_one_line():
    res = dpo_course("run", "--model", "./no-such-model")
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dpo-course: error: Model directory not found: ./no-such-model")
