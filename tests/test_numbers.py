"""Every code cell a lesson runs shows its output, and every number a lesson's prose states with 3 or more significant digits is printed by one of that notebook's cells (its outputs or
its code), or is a constant on the allow-list below with its reason: a lesson never quotes a figure from elsewhere."""
import json, re
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
NUMBER = re.compile(r"(?<![\w.\-/])(\d{1,3}(?:,\d{3})+|\d+\.\d+|\d{3,})(?![\w.]\d)")
ALLOWED = {  # constants of the model, the data or a setting, not measurements
    "0.6931": "ln 2, the DPO loss at step 0",
    "134.5": "SmolLM2-135M's parameters in millions (134,515,008, printed by the Models lesson)",
    "576": "SmolLM2-135M's hidden size (its config)", "49,152": "SmolLM2's vocabulary size (its config)",
    "192": "k and v projection width (3 key-value heads of 64)", "960": "q, k and v together (576 + 192 + 192)",
    "1,536": "SmolLM2-135M's MLP width (its config)", "3,072": "gate and up together (2 × 1,536)",
    "210": "LoRA-adapted projections: 7 per layer × 30 layers", "420": "LoRA tensors: 210 projections × A and B",
    "361,821,120": "SmolLM2-360M's parameter count (its model card), an exercise's input",
    "1,711,376,384": "SmolLM2-1.7B's parameter count (its model card), an exercise's input",
    "139,400,064": "the parameter count the course's original notebook printed, quoted to explain the difference",
    "360": "SmolLM2-360M, a model's name", "160": "HH-RLHF's 160k pairs (its dataset card)", "135": "SmolLM2-135M, a model's name",
    "1,999": "HH-RLHF harmless-base training pairs: 2,299 usable minus 300 held out (the Data and Evaluate lessons print both)",
    "100": "a setting (held-out pairs, prompts) or a threshold", "250": "a setting: steps of the HH run", "256": "a setting: max_length",
    "300": "a setting: HH held-out pairs", "1,024": "a setting: max_length", "1024": "a setting: max_length", "4,096": "a setting: answer tokens per logits chunk",
    "3.10": "a Python version", "3.11": "a Python version", "2.11": "a torch version", "1.15": "a TRL version", "2026.1": "part of an Unsloth version",
}
YEAR = re.compile(r"(19|20)\d\d")


def unbacked_numbers(nb:dict)->list[str]:
    "Numbers with 3+ significant digits in `nb`'s markdown that none of its cells' outputs or code contains (code spans and links ignored)."
    shown = []
    for c in nb["cells"]:
        if c["cell_type"] != "code": continue
        shown.append("".join(c["source"]))
        for o in c.get("outputs", []):
            for t in [o.get("text", "")] + [o.get("data", {}).get(k, "") for k in ("text/plain", "text/markdown", "text/html")]:
                shown.append("".join(t) if isinstance(t, list) else t)
    shown = "\n".join(shown)
    found = []
    for c in nb["cells"]:
        if c["cell_type"] != "markdown": continue
        text = re.sub(r"`[^`]*`|\]\([^)]*\)|https?://\S+", "", "".join(c["source"]))
        for m in NUMBER.finditer(text):
            n = m.group(1)
            if len(n.replace(",", "").replace(".", "").lstrip("0")) < 3 or n in ALLOWED or YEAR.fullmatch(n): continue
            if n not in shown and n.replace(",", "") not in shown: found.append(n)
    return found


@pytest.mark.parametrize("path", sorted((ROOT/"nbs").glob("*.ipynb")), ids=lambda p: p.name)
def test_every_number_in_a_lesson_is_printed_there(path):
    assert unbacked_numbers(json.loads(path.read_text())) == []


def test_a_planted_unbacked_number_is_found():
    md = lambda s: {"cell_type": "markdown", "source": [s]}
    code = lambda s, out: {"cell_type": "code", "source": [s], "outputs": [{"output_type": "stream", "text": [out]}]}
    nb = {"cells": [md("Accuracy rose to 0.873, from 0.520; `0.999` is code; ln 2 is 0.6931; in 2023."), code("print(acc)", "0.520\n")]}
    assert unbacked_numbers(nb) == ["0.873"]


FLAGS = ("#| export", "#| exporti", "#| default_exp", "#| hide", "#| slow", "#| cuda", "#| eval: false", "#| eval:false")

def cells_without_output(nb:dict)->list[int]:
    "Indices of `nb`'s code cells that run in the lesson (not exported-only, hidden or flagged) yet show no output."
    def plain(src:str)->bool: return bool(src.strip()) and not any(f in src for f in FLAGS) and "nbdev_export" not in src
    return [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and plain("".join(c["source"])) and not c.get("outputs")]


@pytest.mark.parametrize("path", sorted((ROOT/"nbs").glob("*.ipynb")), ids=lambda p: p.name)
def test_every_plain_code_cell_shows_output(path):
    assert cells_without_output(json.loads(path.read_text())) == []


def test_a_silent_cell_is_found():
    nb = {"cells": [{"cell_type": "code", "source": ["test_eq(1, 1)"], "outputs": []},
                    {"cell_type": "code", "source": ["#| export\ndef f(): pass"], "outputs": []},
                    {"cell_type": "code", "source": ["print(1)"], "outputs": [{"output_type": "stream", "text": ["1\n"]}]}]}
    assert cells_without_output(nb) == [0]
