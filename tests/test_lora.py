import torch
from dpo_course.lora import LORA_TARGETS, adapter_effect, apply_lora, count_parameters, lora_config, lora_param_count
from dpo_course.models import load_model, tiny_model


def test_real_model_r16_trainable_count():
    model, _ = load_model()
    model = apply_lora(model, lora_config(r=16))
    counts = count_parameters(model)
    assert counts["trainable"] == 4_884_480
    assert counts["total"] == 134_515_008 + 4_884_480
    names = {n.split(".")[-4] for n, p in model.named_parameters() if p.requires_grad}
    assert names == set(LORA_TARGETS)


def test_trainable_count_scales_with_rank(tok):
    shapes = dict(q_proj=(64, 64), k_proj=(64, 32), v_proj=(64, 32), o_proj=(64, 64),
                  gate_proj=(64, 128), up_proj=(64, 128), down_proj=(128, 64))
    for r in (4, 8):
        model = apply_lora(tiny_model(tok), lora_config(r=r))
        assert count_parameters(model)["trainable"] == lora_param_count(shapes, n_layers=2, r=r)


def test_fresh_adapters_leave_outputs_unchanged(real):
    model, tok = load_model()
    enc = tok.apply_chat_template([{"role": "user", "content": "Say hi."}], add_generation_prompt=True,
                                  return_tensors="pt", return_dict=True)
    with torch.no_grad(): base = model(**enc).logits
    model = apply_lora(model)
    with torch.no_grad(): lora = model(**enc).logits
    assert torch.equal(base, lora)
    assert adapter_effect(model, **enc) == 0.0


def test_one_update_makes_adapters_matter(tok):
    model = apply_lora(tiny_model(tok))
    enc = tok("a b c d", return_tensors="pt")
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    model(**enc, labels=enc["input_ids"]).loss.backward()
    opt.step()
    assert adapter_effect(model, **enc) > 0
