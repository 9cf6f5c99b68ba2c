import math
import pytest
import torch
from dpo_course.loss import LOSS_TYPES, compare_with_trl, dpo_loss, sequence_logps


def sig(x): return 1 / (1 + math.exp(-x))


def by_hand(pc, pr, rc, rr, beta, loss_type, ls, nc=None, nr=None):
    "Each loss from its paper's formula, on plain floats."
    hc, hr = pc - rc, pr - rr
    h = hc - hr
    if loss_type == "sigmoid": return -(1 - ls) * math.log(sig(beta * h)) - ls * math.log(sig(-beta * h))
    if loss_type == "hinge": return max(0.0, 1 - beta * h)
    if loss_type == "ipo":
        if nc: h = hc / nc - hr / nr
        return (h - 1 / (2 * beta)) ** 2
    if loss_type == "robust": return ((1 - ls) * -math.log(sig(beta * h)) - ls * -math.log(sig(-beta * h))) / (1 - 2 * ls)
    if loss_type == "apo_zero": return (1 - sig(beta * hc)) + sig(beta * hr)
    if loss_type == "sppo_hard": return (hc - 1 / (2 * beta)) ** 2 + (hr + 1 / (2 * beta)) ** 2
    if loss_type == "nca_pair": return -math.log(sig(beta * hc)) - 0.5 * math.log(sig(-beta * hc)) - 0.5 * math.log(sig(-beta * hr))
    if loss_type == "bco_pair": return -math.log(sig(beta * hc)) - math.log(sig(-beta * hr))
    raise ValueError(loss_type)


PC, PR, RC, RR = [-10.0, -30.5, -7.25], [-14.0, -29.0, -7.0], [-11.0, -30.0, -8.0], [-13.0, -31.0, -6.5]


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
@pytest.mark.parametrize("beta,ls", [(0.1, 0.0), (0.5, 0.2), (0.01, 0.1)])
def test_each_loss_matches_hand_computation(loss_type, beta, ls):
    t = lambda v: torch.tensor(v, dtype=torch.float64)
    losses, rc, rr = dpo_loss(t(PC), t(PR), t(RC), t(RR), beta, loss_type, ls)
    for i in range(3):
        assert losses[i].item() == pytest.approx(by_hand(PC[i], PR[i], RC[i], RR[i], beta, loss_type, ls), rel=1e-12, abs=1e-12)
        assert rc[i].item() == pytest.approx(beta * (PC[i] - RC[i]))
        assert rr[i].item() == pytest.approx(beta * (PR[i] - RR[i]))


def test_ipo_per_token_normalisation():
    t = lambda v: torch.tensor(v, dtype=torch.float64)
    nc, nr = t([5.0, 10.0, 2.0]), t([4.0, 1.0, 3.0])
    losses, _, _ = dpo_loss(t(PC), t(PR), t(RC), t(RR), 0.1, "ipo", chosen_tokens=nc, rejected_tokens=nr)
    for i in range(3):
        assert losses[i].item() == pytest.approx(by_hand(PC[i], PR[i], RC[i], RR[i], 0.1, "ipo", 0, nc[i].item(), nr[i].item()))


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_swapping_chosen_and_rejected_flips_the_margin(loss_type):
    pc, pr, rc, rr = (torch.tensor(v) for v in (PC, PR, RC, RR))
    _, c1, r1 = dpo_loss(pc, pr, rc, rr, 0.1, loss_type)
    _, c2, r2 = dpo_loss(pr, pc, rr, rc, 0.1, loss_type)
    assert torch.allclose(c1 - r1, -(c2 - r2))


def test_symmetric_losses_are_symmetric_in_the_margin():
    "sigmoid's loss at margin m and -m add up to the log-sigmoid identity: L(m) - L(-m) = -m."
    pc, pr, rc, rr = (torch.tensor(v, dtype=torch.float64) for v in (PC, PR, RC, RR))
    l1, c, r = dpo_loss(pc, pr, rc, rr, 0.1)
    l2, _, _ = dpo_loss(pr, pc, rr, rc, 0.1)
    assert torch.allclose(l1 - l2, -(c - r))


def test_ln2_at_zero_margin():
    a, b = torch.randn(16) * 20, torch.randn(16) * 20
    losses, rc, rr = dpo_loss(a, b, a, b)
    assert torch.allclose(losses, torch.full((16,), math.log(2)))
    assert (rc == 0).all() and (rr == 0).all()


def test_unknown_loss_type():
    a = torch.zeros(2)
    with pytest.raises(ValueError, match="unknown loss_type 'x'"): dpo_loss(a, a, a, a, loss_type="x")


def test_sequence_logps_sums_completion_tokens(tok):
    from dpo_course.models import tiny_model
    m = tiny_model(tok)
    ids = torch.tensor([[3, 4, 5, 6], [7, 8, 9, 10]]); att = torch.ones_like(ids)
    comp = torch.tensor([[0, 1, 1, 1], [0, 0, 0, 1]])
    with torch.no_grad():
        lp = m(ids).logits.log_softmax(-1)
        got = sequence_logps(m, ids, att, comp)
    assert got[0].item() == pytest.approx((lp[0, 0, 4] + lp[0, 1, 5] + lp[0, 2, 6]).item(), abs=1e-5)
    assert got[1].item() == pytest.approx(lp[1, 2, 10].item(), abs=1e-5)


@pytest.mark.parametrize("loss_type", ["sigmoid", "ipo", "robust", "bco_pair"])
def test_matches_trl_on_tiny_model_after_training(tok, loss_type):
    from dpo_course.data import data_dir, load_preferences
    from dpo_course.lora import apply_lora
    from dpo_course.loss import trl_trainer
    from dpo_course.models import tiny_model
    pairs, _ = load_preferences(data_dir() / "llms-from-scratch-preference" / "instruction-data-with-preference.json", limit=12)
    model = apply_lora(tiny_model(tok))
    trl_trainer(model, tok, train_dataset=pairs.select(range(8)), max_steps=2, per_device_train_batch_size=4,
                learning_rate=1e-2).train()
    res = compare_with_trl(model, tok, pairs.select(range(8, 12)), loss_type, label_smoothing=0.1 if loss_type == "robust" else 0)
    assert res["rewards/margins"][1] != 0  # policy moved away from the reference
    for k, (ours, theirs) in res.items(): assert ours == pytest.approx(theirs, abs=1e-4, rel=1e-5), k
