"""After training, the "before" answers are the reference's and the "after" answers the policy's, on both engines, for the tiny
and the real model. TRL's fused LM head sets `forward` on the model instance as a closure over the original model; a deep copy
kept calling it, so the TRL engine's "before" answers came from the trained weights. On a GPU `make test-gpu` runs this file too."""
import pytest, torch
from dpo_course.evaluate import chat_answers, evaluate_run
from dpo_course.models import load_model, pick_device, tiny_model
from dpo_course.train import DPORunConfig, train

PROMPTS = ["What is the chemical symbol for mercury?", "Name a colour.", "Rewrite politely: give me the report."]


def fresh(which, tok):
    "A freshly loaded reference model: the tiny random Llama (fixed seed) or the real weights."
    return tiny_model(tok).to(pick_device()) if which == "tiny" else load_model()[0]


def own_generation(model, tok, prompts, n):
    "Greedy answers of `model` itself (the PEFT model, adapters on), one prompt at a time, end of turn cut off."
    out = []
    for p in prompts:
        ids = tok.apply_chat_template([{"role": "user", "content": p}], add_generation_prompt=True, return_tensors="pt", return_dict=True)["input_ids"].to(model.device)
        with torch.no_grad(): row = model.generate(input_ids=ids, max_new_tokens=n, do_sample=False, pad_token_id=tok.pad_token_id)[0, ids.shape[1]:].tolist()
        out.append(row[:row.index(tok.eos_token_id)] if tok.eos_token_id in row else row)
    return out


@pytest.mark.parametrize("engine", ["trl", "fast"])
@pytest.mark.parametrize("which", ["tiny", "real"])
def test_before_is_the_reference_and_after_is_the_policy(tok, tmp_path, engine, which):
    lr = 1e-2 if which == "tiny" else 2e-3  # enough to move the answers in 4 steps
    cfg = DPORunConfig(output_dir=str(tmp_path/"r"), limit=40, eval_size=8, batch_size=4, max_steps=4, save_steps=0, logging_steps=1,
                       learning_rate=lr, sft_weight=0.0, engine=engine, max_length=128)
    res = train(cfg, model=fresh(which, tok), tokenizer=tok)
    before = chat_answers(res.model, tok, PROMPTS, 12, batch_size=1, adapters=False)
    after = chat_answers(res.model, tok, PROMPTS, 12, batch_size=1)
    assert before == chat_answers(fresh(which, tok), tok, PROMPTS, 12, batch_size=1), "before answers are not the reference's"
    assert after == own_generation(res.model, tok, PROMPTS, 12), "after answers are not the adapters' own"
    x = torch.tensor([[1, 2, 3, 4, 5]], device=res.model.device)
    with torch.no_grad(): moved = (res.model(input_ids=x).logits - fresh(which, tok)(input_ids=x).logits).abs().max().item()
    assert moved > 1e-3, f"training did not move the policy ({moved}): the test would not tell the two apart"
    print(f"\n{which}, {engine}: policy moved the logits by up to {moved:.3f}; before answers are the reference's, after answers the adapters'")


def test_no_verdict_when_before_and_after_share_weights(tok):
    "A model whose adapters change nothing answers the same before and after: the report says so instead of judging it."
    from datasets import Dataset
    from dpo_course.lora import apply_lora, lora_config
    msg = lambda role, text: [{"role": role, "content": text}]
    pairs = Dataset.from_list([dict(prompt=msg("user", p), chosen=msg("assistant", "Yes."), rejected=msg("assistant", "No."), reference="Yes.") for p in PROMPTS])
    rep = evaluate_run(apply_lora(tiny_model(tok), lora_config(r=4)), tok, pairs, n_prompts=3, max_new_tokens=4)
    assert rep["same_weights"] and rep["verdict"].startswith("no verdict"), rep["verdict"]
