"""Every bad input gives one clear error naming file, line/row and field, and leaves nothing written.

Each case runs through the command line in-process (`main(argv)`): exit code 2, the error on the last stderr line,
no traceback, and no run directory."""
import gzip, json
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from dpo_course.cli import main
from dpo_course.data import PreferenceDataError, load_preferences

GOOD = {"prompt": "What is 2+2?", "chosen": "4", "rejected": "5"}


def jsonl(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def gz_truncated(path):
    data = gzip.compress((json.dumps(GOOD) + "\n").encode() * 300)
    path.write_bytes(data[: len(data) // 2])
    return path


def non_utf8(path):
    path.write_bytes((json.dumps(GOOD) + "\n").encode() + b'{"prompt": "caf\xe9", "chosen": "y", "rejected": "n"}\n')
    return path


# (case id, file writer, expected pieces of the message)
DATA_CASES = [
    ("malformed-json-line", lambda p: jsonl(p / "d.jsonl", [GOOD, GOOD, "{oops", GOOD]), ["d.jsonl, line 3: malformed JSON"]),
    ("truncated-gzip", lambda p: gz_truncated(p / "d.jsonl.gz"), ["d.jsonl.gz: truncated or unreadable file"]),
    ("non-utf8", lambda p: non_utf8(p / "d.jsonl"), ["d.jsonl, line 2: not valid UTF-8"]),
    ("missing-chosen", lambda p: jsonl(p / "d.jsonl", [GOOD, {"prompt": "q", "rejected": "n"}]), ["d.jsonl, line 2, field 'chosen': missing"]),
    ("missing-rejected", lambda p: jsonl(p / "d.jsonl", [GOOD, {"prompt": "q", "chosen": "y"}]), ["d.jsonl, line 2, field 'rejected': missing"]),
    ("missing-prompt", lambda p: jsonl(p / "d.jsonl", [GOOD, GOOD, {"chosen": "y", "rejected": "n", "x": 1}]), ["d.jsonl, line 3, field 'prompt': missing"]),
    ("number-field", lambda p: jsonl(p / "d.jsonl", [{**GOOD, "chosen": 42}]), ["d.jsonl, line 1, field 'chosen': expected a string, got int"]),
    ("null-field", lambda p: jsonl(p / "d.jsonl", [GOOD, {**GOOD, "rejected": None}]), ["d.jsonl, line 2, field 'rejected': expected a string, got NoneType"]),
    ("nested-list-field", lambda p: jsonl(p / "d.jsonl", [{**GOOD, "prompt": [["a", "b"]]}]), ["d.jsonl, line 1, field 'prompt': expected a non-empty list"]),
    ("row-not-object", lambda p: (p / "d.json").write_text(json.dumps([GOOD, "just text"])) and p / "d.json", ["d.json, row 2: expected an object, got str"]),
    ("empty-strings", lambda p: jsonl(p / "d.jsonl", [{**GOOD, "chosen": ""}] * 3), ["d.jsonl: no usable pairs", "empty 3"]),
    ("all-identical", lambda p: jsonl(p / "d.jsonl", [{**GOOD, "rejected": GOOD["chosen"]}] * 4), ["d.jsonl: no usable pairs", "identical 4"]),
    ("unknown-columns", lambda p: jsonl(p / "d.jsonl", [{"question": "q", "good": "y", "bad": "n"}]), ["d.jsonl: unknown format", "question"]),
    ("missing-data-path", lambda p: p / "nope.jsonl", ["nope.jsonl: no such file or directory"]),
    ("unknown-role", lambda p: jsonl(p / "d.jsonl", [GOOD, {**GOOD, "chosen": [{"role": "wizard", "content": "y"}]}]),
     ["d.jsonl, line 2, field 'chosen': unknown role 'wizard'"]),
    ("user-turn-in-answer", lambda p: jsonl(p / "d.jsonl", [{**GOOD, "rejected": [{"role": "system", "content": "n"}]}]),
     ["d.jsonl, line 1, field 'rejected': an answer holds assistant messages only, got a 'system' message"]),
    ("prompt-ends-on-assistant", lambda p: jsonl(p / "d.jsonl", [GOOD, GOOD, {**GOOD, "prompt": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}]),
     ["d.jsonl, line 3, field 'prompt': the prompt must end on a user turn, it ends on 'assistant'"]),
]


def run_cli(argv, capsys):
    with pytest.raises(SystemExit) as e: main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    return e.value.code, err


def check_one_clear_error(code, err, pieces, run_dir):
    assert code == 2, err
    assert err and err[-1].startswith("dpo-course: error: ") and not any("Traceback" in l for l in err), err
    for piece in pieces: assert piece in err[-1], (piece, err[-1])
    assert not run_dir.exists(), "a failed run must leave no run directory"


@pytest.mark.parametrize("case,write,pieces", DATA_CASES, ids=[c[0] for c in DATA_CASES])
def test_bad_data(case, write, pieces, tmp_path, capsys):
    f = write(tmp_path)
    # the library raises its own error type, naming the file
    with pytest.raises(PreferenceDataError) as e: load_preferences(f)
    assert str(f) in str(e.value)
    # the command line exits 2 with that message as its only stderr line
    code, err = run_cli(["train", "--data", str(f), "--eval-size", "1", "--output-dir", str(tmp_path / "run")], capsys)
    check_one_clear_error(code, err, pieces, tmp_path / "run")
    assert len(err) == 1, err


CONFIG_CASES = [
    ("unknown-key", "betta = 0.1\n", ["c.toml: unknown config key 'betta'"]),
    ("wrong-type", "max_steps = 'ten'\n", ["config key 'max_steps': expected int, got str"]),
    ("negative-learning-rate", "learning_rate = -1e-4\n", ["config key 'learning_rate': must be > 0"]),
    ("zero-batch-size", "batch_size = 0\n", ["config key 'batch_size': must be > 0"]),
    ("zero-beta", "beta = 0.0\n", ["config key 'beta': must be > 0"]),
    ("unknown-loss-type", "loss_type = 'dpo'\n", ["config key 'loss_type': 'dpo' is not one of"]),
    ("invalid-toml", "beta = \n", ["c.toml: invalid TOML"]),
    ("output-outside", "output_dir = '../../etc/runs'\n", ["config key 'output_dir'", "points outside the working directory"]),
    ("nan-beta", "beta = nan\n", ["config key 'beta': must be a finite number, got nan"]),
    ("inf-learning-rate", "learning_rate = inf\n", ["config key 'learning_rate': must be a finite number, got inf"]),
    ("inf-sft-weight", "sft_weight = inf\n", ["config key 'sft_weight': must be a finite number, got inf"]),
]


@pytest.mark.parametrize("case,text,pieces", CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
def test_bad_config(case, text, pieces, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.toml").write_text(text)
    code, err = run_cli(["train", "--config", "c.toml"], capsys)
    check_one_clear_error(code, err, pieces, tmp_path / "runs")
    assert len(err) == 1, err


def test_negative_learning_rate_flag(tmp_path, capsys):
    code, err = run_cli(["train", "--learning-rate", "-0.001", "--output-dir", str(tmp_path / "run")], capsys)
    check_one_clear_error(code, err, ["'learning_rate': must be > 0, got -0.001"], tmp_path / "run")


@pytest.mark.parametrize("model,pieces", [("./no-such-model", ["Model directory not found: ./no-such-model"]),
                                          ("nobody/no-such-model", ["Model 'nobody/no-such-model' can't be fetched", "offline"])],
                         ids=["missing-model-dir", "hub-name-offline"])
def test_bad_model(model, pieces, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code, err = run_cli(["train", "--model", model, "--output-dir", str(tmp_path / "run")], capsys)
    check_one_clear_error(code, err, pieces, tmp_path / "run")
    assert len(err) == 1, err


def test_every_prompt_longer_than_max_length(tiny_dir, tmp_path, capsys):
    f = jsonl(tmp_path / "long.jsonl", [{**GOOD, "prompt": "word " * 300}] * 6)
    code, err = run_cli(["train", "--model", str(tiny_dir), "--data", str(f), "--eval-size", "1", "--max-length", "128",
                         "--output-dir", str(tmp_path / "run")], capsys)
    check_one_clear_error(code, err, ["long.jsonl, all 4 pairs, field 'prompt': every prompt fills max_length=128"], tmp_path / "run")


def test_long_answers_are_counted_not_fatal(tiny_dir, tmp_path):
    "Pairs longer than max_length whose prompt fits still train; the run reports how many were truncated."
    from dpo_course.train import DPORunConfig, train
    from dpo_course.models import load_model
    f = jsonl(tmp_path / "long.jsonl", [{"prompt": f"q{i}", "chosen": "yes " * 200, "rejected": "no " * 200} for i in range(6)])
    cfg = DPORunConfig(model=str(tiny_dir), data=str(f), eval_size=1, max_length=64, batch_size=2, max_steps=1, output_dir=str(tmp_path / "run"))
    s = train(cfg, *load_model(str(tiny_dir))).summary
    assert (s["train_pairs"], s["truncated"], s["no_answer_token"]) == (4, 4, 0)  # 6 pairs: 1 test, 1 validation, 4 trained


# ---------- property: any JSON rows give a dataset or the project's own error, never anything else ----------
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                           max_leaves=6)
keys = st.sampled_from(["prompt", "chosen", "rejected", "instruction", "input", "role", "content", "other"])
message = st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant"]), "content": st.text(max_size=20)})
field_value = st.one_of(st.text(max_size=30), st.lists(message, max_size=2), json_values,
                        st.builds(lambda h, a: f"\n\nHuman: {h}\n\nAssistant: {a}", st.text(max_size=10), st.text(max_size=10)))
rows = st.lists(st.one_of(st.dictionaries(keys, field_value, max_size=5), json_values), min_size=1, max_size=6)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=rows, ext=st.sampled_from(["jsonl", "json"]))
def test_random_rows_give_a_dataset_or_our_error(rows, ext, tmp_path):
    f = tmp_path / f"random.{ext}"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows) if ext == "jsonl" else json.dumps(rows))
    try:
        ds, report = load_preferences(f)
    except PreferenceDataError as e:
        assert str(f) in str(e)
        return
    assert len(ds) == report.kept > 0 and report.read <= len(rows)
    for ex in ds:
        for k in ("prompt", "chosen", "rejected"):
            assert ex[k] and all(isinstance(m["role"], str) and isinstance(m["content"], str) for m in ex[k])
        assert ex["chosen"] != ex["rejected"]


# ---------- where a run may write, and what it may touch ----------
@pytest.mark.parametrize("out,pieces", [("/", ["'/' resolves to /,"]), ("", ["config key 'output_dir': empty"]),
                                        ("/etc/dpo-run", ["resolves to /etc/dpo-run"]), ("LINK/run", ["resolves to /etc/run"])],
                         ids=["root", "empty", "system-dir", "symlink-out"])
def test_output_dir_outside_the_allowed_roots(out, pieces, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "LINK").symlink_to("/etc")
    code, err = run_cli(["train", "--output-dir", out, "--max-steps", "1"], capsys)
    check_one_clear_error(code, err, pieces, tmp_path / "runs")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["LINK"]


def other_run(d):
    "A folder holding another run's files: its checkpoints, adapter and metrics."
    for name in ("checkpoint-7", "checkpoint-100", "adapter"):
        (d / name).mkdir(parents=True); (d / name / "adapter_model.safetensors").write_bytes(name.encode() * 10)
    (d / "metrics.jsonl").write_text('{"step": 100, "loss": 0.1}\n')
    return {p: p.read_bytes() for p in d.rglob("*") if p.is_file()}


def test_non_empty_output_dir_is_refused_and_left_as_it_was(tiny_dir, tmp_path, capsys):
    before = other_run(tmp_path / "run")
    code, err = run_cli(["train", "--model", str(tiny_dir), "--output-dir", str(tmp_path / "run"), "--max-steps", "2"], capsys)
    assert code == 2 and "is not empty" in err[-1], err
    assert {p: p.read_bytes() for p in (tmp_path / "run").rglob("*") if p.is_file()} == before


def test_output_dir_that_is_a_file(tmp_path, capsys):
    (tmp_path / "run").write_text("my notes")
    code, err = run_cli(["train", "--output-dir", str(tmp_path / "run"), "--max-steps", "1"], capsys)
    assert code == 2 and err[-1] == f"dpo-course: error: config key 'output_dir': {tmp_path / 'run'} is a file, not a folder", err
    assert (tmp_path / "run").read_text() == "my notes"


def tiny_cfg(tiny_dir, out, **kw):
    from dpo_course.train import DPORunConfig
    return DPORunConfig(**{**dict(model=str(tiny_dir), output_dir=str(out), limit=40, eval_size=8, batch_size=4, max_steps=4, save_steps=2,
                                  logging_steps=1, learning_rate=1e-2, sft_weight=0.0), **kw})


def test_resume_refuses_a_finished_run_and_other_settings(tiny_dir, tmp_path):
    from dataclasses import replace
    from dpo_course.train import ConfigError, train
    cfg = tiny_cfg(tiny_dir, tmp_path / "run")
    train(cfg)
    with pytest.raises(ConfigError, match=r"finished run \(4 steps\): nothing to resume"): train(replace(cfg, resume=True))
    (tmp_path / "run" / "summary.json").unlink()  # as if killed before the end
    saved = (tmp_path / "run" / "config.toml").read_text()
    with pytest.raises(ConfigError, match=r"other settings: .*beta = 0.1 there, 0.5 now.*batch_size = 4 there, 2 now"):
        train(replace(cfg, resume=True, beta=0.5, batch_size=2))
    assert (tmp_path / "run" / "config.toml").read_text() == saved


def test_resume_detects_a_damaged_checkpoint_before_changing_anything(tiny_dir, tmp_path):
    from dataclasses import replace
    from dpo_course.train import ConfigError, train
    cfg = tiny_cfg(tiny_dir, tmp_path / "run")
    train(cfg)
    (tmp_path / "run" / "summary.json").unlink()
    w = tmp_path / "run" / "checkpoint-4" / "adapter_model.safetensors"; w.write_bytes(w.read_bytes()[:1000])  # a truncated write
    before = {p: p.read_bytes() for p in (tmp_path / "run").rglob("*") if p.is_file()}
    with pytest.raises(ConfigError, match=r"checkpoint-4 is damaged .*checkpoint-2 is sound"): train(replace(cfg, resume=True))
    assert {p: p.read_bytes() for p in (tmp_path / "run").rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("engine", ["trl", "fast"])
def test_diverged_weights_are_never_kept_as_a_good_checkpoint(tiny_dir, tmp_path, engine):
    "A learning rate of 1e30 makes the weights non-finite after step 1: the run stops, naming the divergence, and keeps no such checkpoint."
    from dpo_course.train import TrainingDiverged, checkpoint_problem, train
    with pytest.raises(TrainingDiverged, match="diverge|loss is nan"): train(tiny_cfg(tiny_dir, tmp_path / "run", learning_rate=1e30, save_steps=1, engine=engine))
    assert all(checkpoint_problem(c) is None for c in (tmp_path / "run").glob("checkpoint-*"))
    for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines():  # strict JSON: no bare NaN or Infinity
        json.loads(line, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c} in metrics.jsonl"))


def test_offline_detection_falls_back_on_a_connection_that_fails_after_accepting(monkeypatch):
    "A proxy or endpoint that accepts TCP but never answers HTTP(S) counts as offline, within the timeout."
    import socket, threading, time
    from dpo_course.models import hub_offline
    server = socket.create_server(("127.0.0.1", 0))
    threading.Thread(target=lambda: [server.accept()[0].close() for _ in range(3)], daemon=True).start()
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False); monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.getsockname()[1]}")
    start = time.time()
    assert hub_offline(timeout=1.0) and time.time() - start < 5
