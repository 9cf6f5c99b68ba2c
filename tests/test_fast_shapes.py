"""The fast engine's static buffers on the layouts GPU runs use, checked on a CPU: every batch a run meets (training batches and
reference batches, short last ones included) must fit the buffers of its key, for random pair lengths and for the full HH-RLHF file."""
import pytest, torch
from hypothesis import given, settings, strategies as st
from dpo_course.graphs import LAYOUTS, GraphedDPO, row_length, static_batch
from dpo_course.fast_train import reference_batches, run_options
from dpo_course.lora import apply_lora, lora_config
from dpo_course.models import load_tokenizer, tiny_model
from dpo_course.speed import batch_order, real_tokens, tokenize_pairs


@pytest.fixture(scope="module")
def tokenizer(): return load_tokenizer()


def engine(tokenizer, items, layout, flat_steps:int=32):
    "A GraphedDPO in `layout` (flat: the one a CUDA run uses, the whole batch in one row; shared: a CPU run's), graphs off."
    m = apply_lora(tiny_model(tokenizer, n_layers=1, hidden=32), lora_config(r=2))
    return GraphedDPO(m, row_length(items), graphs=False, layout=layout, pad_id=tokenizer.pad_token_id, max_steps=2, flat_steps=flat_steps)


def check_run(f, items, batch_size, steps, seed=0):
    "Every training and reference batch of a run (the reference in training batches, and in 64 pairs of like length as a GPU run does): tensors of the same key have the same shapes (the static buffers' condition)."
    order = batch_order(len(items), batch_size, steps, seed=seed)
    shapes, lengths = {}, [real_tokens([it]) for it in items]
    for idx in order + reference_batches(order, len(items)) + reference_batches(order, len(items), lengths, 64):
        b = [items[i] for i in idx]; shape = f.batches.shape(b)
        host = static_batch(b, f.pad_id, **shape)
        got = {k: tuple(v.shape) for k, v in host.items()}
        assert shapes.setdefault(f.batches.key(len(b), shape), got) == got, f"batch {idx} does not fit the buffers of its key"
        assert int(host["n_answer"].sum()) == sum(max(0, len(it[s]) - it["n_prompt"]) for it in b for s in ("chosen", "rejected"))
    return len(shapes)


pair = st.tuples(st.integers(1, 300), st.integers(1, 200), st.integers(1, 200), st.integers(0, 20))

@settings(max_examples=60, deadline=None)
@given(st.lists(pair, min_size=3, max_size=60), st.integers(1, 16), st.sampled_from(LAYOUTS), st.integers(0, 10**6), st.sampled_from([32, 8, 4]))
def test_random_pair_lengths_fit_their_buffers(tokenizer, pairs, batch_size, layout, seed, flat_steps):
    g = torch.Generator().manual_seed(seed)
    tokens = lambda n: torch.randint(3, 1000, (n,), generator=g).tolist()
    items = []
    for n_prompt, n_c, n_r, common in pairs:  # answers may share their first tokens (a longer shared prefix)
        p, c = tokens(n_prompt), tokens(n_c); r = c[:min(common, n_c, n_r - 1)] + tokens(n_r - min(common, n_c, n_r - 1))
        items.append(dict(chosen=p + c, rejected=p + r, n_prompt=n_prompt))
    batch_size = min(batch_size, len(items))
    check_run(engine(tokenizer, items, layout, flat_steps), items, batch_size, steps=2 * len(items) // batch_size + 1, seed=seed)


@pytest.mark.parametrize("batch_size,max_length", [(8, 1024), (16, 1024), (16, 512)])
def test_full_harmless_base_file_fits_its_buffers(tokenizer, batch_size, max_length):
    from dpo_course.train import DPORunConfig, run_pairs
    cfg = DPORunConfig(data="hh-rlhf", eval_size=300)
    items = tokenize_pairs(run_pairs(cfg)[0], tokenizer, max_length)
    flat_steps = run_options(cfg, "cuda").flat_steps  # the bucketing a GPU run uses
    n = check_run(engine(tokenizer, items, "flat", flat_steps), items, batch_size, steps=2 * len(items) // batch_size)
    assert n > 1
