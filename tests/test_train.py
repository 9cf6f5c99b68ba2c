import json
import pytest
from dpo_course.train import ConfigError, DPORunConfig, read_metrics, train
from dpo_course.models import tiny_model


def test_config_errors_name_the_key(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text("batch_size = 0\n")
    with pytest.raises(ConfigError, match="'batch_size': must be > 0"): DPORunConfig.from_toml(p)
    p.write_text("learning_rate = -1e-4\n")
    with pytest.raises(ConfigError, match="'learning_rate': must be > 0"): DPORunConfig.from_toml(p)
    p.write_text("betta = 0.1\n")
    with pytest.raises(ConfigError, match="unknown config key 'betta'"): DPORunConfig.from_toml(p)
    p.write_text("max_steps = 'ten'\n")
    with pytest.raises(ConfigError, match="'max_steps': expected int"): DPORunConfig.from_toml(p)
    with pytest.raises(ConfigError, match="config file not found"): DPORunConfig.from_toml(tmp_path / "missing.toml")


def test_toml_round_trip(tmp_path):
    cfg = DPORunConfig(beta=0.25, merge=True, data="hh-rlhf")
    (tmp_path / "c.toml").write_text(cfg.to_toml())
    assert DPORunConfig.from_toml(tmp_path / "c.toml") == cfg


def tiny_run(tok, out, **kw):
    cfg = DPORunConfig(output_dir=str(out), limit=40, eval_size=8, batch_size=4, max_steps=4, save_steps=2,
                       logging_steps=1, learning_rate=1e-2, **{"sft_weight": 0.0, **kw})
    return cfg, train(cfg, model=tiny_model(tok), tokenizer=tok)


@pytest.mark.parametrize("engine", ["trl", "fast"])
def test_resume_finishes_like_an_uninterrupted_run(tok, tmp_path, engine):
    import shutil, torch
    from safetensors.torch import load_file
    _, full = tiny_run(tok, tmp_path / "full", engine=engine)
    # a run stopped after its step-2 checkpoint: keep that checkpoint and the metrics up to step 2
    part = tmp_path / "part"
    shutil.copytree(tmp_path / "full", part)
    for p in ["checkpoint-4", "adapter", "summary.json", "plots"]: shutil.rmtree(part / p, ignore_errors=True) if (part / p).is_dir() else (part / p).unlink()
    lines = [l for l in (part / "metrics.jsonl").read_text().splitlines() if json.loads(l)["step"] <= 3]  # step 3 logged, not checkpointed
    (part / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    _, resumed = tiny_run(tok, part, resume=True, engine=engine)
    assert resumed.summary["resumed_from"].endswith("checkpoint-2")
    a, b = read_metrics(tmp_path / "full"), read_metrics(part)
    assert [m["step"] for m in b] == [1, 2, 3, 4]
    for x, y in zip(a, b): assert x["loss"] == pytest.approx(y["loss"], abs=1e-5)
    wa, wb = load_file(tmp_path / "full" / "adapter" / "adapter_model.safetensors"), load_file(part / "adapter" / "adapter_model.safetensors")
    assert wa.keys() == wb.keys() and all(torch.allclose(wa[k], wb[k], atol=1e-5) for k in wa)


@pytest.mark.parametrize("engine", ["trl", "fast"])
def test_run_directory_contents(tok, tmp_path, engine):
    cfg, res = tiny_run(tok, tmp_path / "r", engine=engine)
    names = {p.name for p in (tmp_path / "r").iterdir()}
    assert {"config.toml", "metrics.jsonl", "plots", "adapter", "summary.json", "checkpoint-4"} <= names
    assert DPORunConfig.from_toml(tmp_path / "r" / "config.toml", output_dir=cfg.output_dir) == cfg
    s = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert s["engine"] == engine and [m["step"] for m in read_metrics(tmp_path / "r")] == [1, 2, 3, 4]
    assert {"loss", "rewards/margins", "rewards/accuracies", "logps/chosen", "logps/rejected", "elapsed_s"} <= set(read_metrics(tmp_path / "r")[0])
    assert s["steps"] == 4 and s["model_params"] + s["trainable_params"] > 0 and s["first_loss"] == pytest.approx(0.6931, abs=1e-3)
    with pytest.raises(ConfigError, match="already holds a finished run"): tiny_run(tok, tmp_path / "r", engine=engine)


def test_fast_engine_refuses_several_processes_before_writing(tok, tmp_path, monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(ConfigError, match="one process"): tiny_run(tok, tmp_path / "r", engine="fast")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("key,value,message", [("eval_size", 0, "'eval_size': must be > 0"), ("eval_size", -5, "'eval_size': must be > 0"),
                                               ("limit", -3, "'limit': must be >= 0"), ("save_steps", -1, "'save_steps': must be >= 0"),
                                               ("val_size", -1, "'val_size': must be >= 0")])
def test_sizes_out_of_range_name_the_key(key, value, message):
    with pytest.raises(ConfigError, match=message): DPORunConfig(**{key: value})
