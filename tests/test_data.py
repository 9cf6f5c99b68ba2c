import gzip, json
import pytest
from hypothesis import given, settings, strategies as st
from dpo_course.data import (ASSISTANT, HUMAN, PreferenceDataError, SplitError, data_dir, hh_text, load_preferences,
                             pair_tokens, split_hh_dialogue, train_eval_split)

# ---------- split_hh_dialogue: properties on generated dialogues ----------
text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=30).filter(
    lambda s: s.strip() and "\n\nHuman:" not in s and "\n\nAssistant:" not in s and not s.startswith(" "))


@st.composite
def hh_pairs(draw):
    "A multi-turn HH dialogue and two different final answers."
    n = draw(st.integers(1, 5))
    history = "".join(f"{HUMAN} {draw(text)}{ASSISTANT} {draw(text)}" for _ in range(n - 1)) + f"{HUMAN} {draw(text)}{ASSISTANT}"
    a, b = draw(text), draw(text)
    return history, a, b


@settings(max_examples=300, deadline=None)
@given(hh_pairs())
def test_split_reconstructs_the_original_strings(pair):
    history, a, b = pair
    chosen, rejected = f"{history} {a}", f"{history} {b}"
    if a == b:
        with pytest.raises(SplitError, match="identical"): split_hh_dialogue(chosen, rejected)
        return
    ex = split_hh_dialogue(chosen, rejected)
    assert hh_text(ex["prompt"] + ex["chosen"]) == chosen
    assert hh_text(ex["prompt"] + ex["rejected"]) == rejected
    roles = [m["role"] for m in ex["prompt"]]
    assert roles == ["user", "assistant"] * (len(roles) // 2) + ["user"]
    assert len(roles) == 2 * history.count(HUMAN) - 1


@pytest.mark.parametrize("chosen,rejected,reason", [
    ("\n\nHuman: a\n\nAssistant: b", "\n\nHuman: a\n\nAssistant: b", "identical"),
    ("\n\nHuman: a\n\nAssistant: b", "  ", "empty"),
    ("\n\nHuman: a\n\nAssistant: ", "\n\nHuman: a\n\nAssistant: c", "empty"),
    ("\n\nHuman: a b", "\n\nHuman: a c", "no_assistant"),
    ("\n\nHuman: a\n\nAssistant: b\n\nHuman: c\n\nAssistant: d", "\n\nHuman: a\n\nAssistant: x\n\nHuman: c\n\nAssistant: d", "diverge_early"),
])
def test_split_errors_name_the_reason(chosen, rejected, reason):
    with pytest.raises(SplitError) as e: split_hh_dialogue(chosen, rejected)
    assert e.value.reason == reason


# ---------- real files ----------
def test_real_hh_rlhf_split():
    ds, report = load_preferences(data_dir() / "hh-rlhf" / "harmless-base" / "test.jsonl.gz")
    assert report.read == 2312 and report.kept == len(ds) == report.read - sum(report.dropped.values())
    for ex in ds:
        roles = [m["role"] for m in ex["prompt"]]
        assert roles == ["user", "assistant"] * (len(roles) // 2) + ["user"]
        assert HUMAN not in ex["chosen"][0]["content"] and HUMAN not in ex["rejected"][0]["content"]


def test_real_instruction_file():
    src = data_dir() / "llms-from-scratch-preference" / "instruction-data-with-preference.json"
    ds, report = load_preferences(src)
    raw = json.loads(src.read_text())
    assert report.read == len(raw) == 1100 and report.fmt == "instruction"
    assert len(ds) == 1100 - report.dropped["identical"]  # the file has 6 pairs whose answers are identical
    first = next(r for r in raw if r["input"])
    assert ds[[p[0]["content"] for p in ds["prompt"]].index(f"{first['instruction']}\n\n{first['input']}")]


def test_hub_id_offline_resolves_to_local_copy(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    ds, report = load_preferences("Anthropic/hh-rlhf", split="test", limit=10)
    assert len(ds) == 10


def test_data_dir_env_override(monkeypatch, tmp_path):
    (tmp_path / "hh-rlhf").mkdir()
    (tmp_path / "hh-rlhf" / "test.jsonl").write_text(json.dumps({"chosen": "\n\nHuman: q\n\nAssistant: a", "rejected": "\n\nHuman: q\n\nAssistant: b"}) + "\n")
    monkeypatch.setenv("DPO_COURSE_DATA", str(tmp_path)); monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    ds, _ = load_preferences("Anthropic/hh-rlhf", split="test")
    assert ds[0]["chosen"] == [{"role": "assistant", "content": "a"}]


# ---------- formats ----------
def write(path, rows):
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_explicit_strings_and_messages(tmp_path):
    f = write(tmp_path / "p.jsonl", [{"prompt": "q", "chosen": "good", "rejected": "bad"},
                                     {"prompt": [{"role": "user", "content": "q2"}], "chosen": [{"role": "assistant", "content": "g"}],
                                      "rejected": [{"role": "assistant", "content": "b"}]}])
    ds, rep = load_preferences(f)
    assert rep.fmt == "explicit" and ds[0]["prompt"] == [{"role": "user", "content": "q"}] and ds[1]["chosen"][0]["content"] == "g"


def test_columns_mapping_and_csv_and_parquet(tmp_path):
    import pyarrow as pa, pyarrow.parquet as pq
    (tmp_path / "d.csv").write_text("question,good,bad\nq,yes,no\n")
    ds, rep = load_preferences(tmp_path / "d.csv", columns={"question": "prompt", "good": "chosen", "bad": "rejected"})
    assert rep.fmt == "explicit" and ds[0]["rejected"][0]["content"] == "no"
    pq.write_table(pa.Table.from_pylist([{"prompt": "q", "chosen": "y", "rejected": "n"}]), tmp_path / "d.parquet")
    assert len(load_preferences(tmp_path / "d.parquet")[0]) == 1


def test_limit_and_deterministic_split(tmp_path):
    f = write(tmp_path / "p.jsonl", [{"prompt": f"q{i}", "chosen": "y", "rejected": "n"} for i in range(50)])
    ds, _ = load_preferences(f, limit=20)
    assert len(ds) == 20
    a, b = train_eval_split(ds, 5, seed=1), train_eval_split(ds, 5, seed=1)
    assert a[1]["prompt"] == b[1]["prompt"] and len(a[0]) == 15
    assert not set(str(p) for p in a[0]["prompt"]) & set(str(p) for p in a[1]["prompt"])


# ---------- tokenization matches TRL's DPOTrainer ----------
def test_pair_tokens_match_dpo_trainer(tok, tmp_path):
    from trl import DPOConfig, DPOTrainer
    from dpo_course.lora import lora_config
    from dpo_course.models import tiny_model
    ds, _ = load_preferences(data_dir() / "hh-rlhf" / "harmless-base" / "test.jsonl.gz", limit=8)
    args = DPOConfig(output_dir=str(tmp_path), report_to="none", max_length=None, per_device_train_batch_size=2,
                     disable_tqdm=True, use_cpu=True)
    trainer = DPOTrainer(model=tiny_model(tok), args=args, train_dataset=ds, processing_class=tok, peft_config=lora_config())
    for i in range(len(ds)):
        ours, trl_row = pair_tokens(ds[i], tok), trainer.train_dataset[i]
        for k in ("prompt_ids", "chosen_ids", "rejected_ids"): assert ours[k] == trl_row[k], (i, k)
