import pytest
import torch
import torch.nn.functional as F

from rt2.training.soft_bins import IGNORE, gaussian_bin_targets, soft_bin_cross_entropy


def test_sigma_zero_is_plain_cross_entropy_and_ignores_unknown_labels():
    torch.manual_seed(0)
    logits, labels = torch.randn(6, 11), torch.tensor([0, 3, IGNORE, 10, 5, IGNORE])
    plain = F.cross_entropy(logits, labels, ignore_index=IGNORE)
    assert torch.allclose(soft_bin_cross_entropy(logits, labels, 0.0), plain)
    smooth = soft_bin_cross_entropy(logits, labels, 1.0)
    kept = labels != IGNORE
    assert torch.allclose(smooth, soft_bin_cross_entropy(logits[kept], labels[kept], 1.0))


def test_targets_peak_at_the_label_and_stay_on_valid_bins():
    valid = torch.arange(9)[None] < torch.tensor([[9], [5]])  # the second label has 5 bins
    q = gaussian_bin_targets(torch.tensor([4, 4]), 9, sigma=1.0, valid=valid)
    assert torch.allclose(q.sum(-1), torch.ones(2))
    assert q[0].argmax() == 4 and torch.allclose(q[0, 3], q[0, 5])  # symmetric around the label
    assert (q[1, 5:] == 0).all() and q[1].argmax() == 4
    with pytest.raises(ValueError, match="sigma"):
        gaussian_bin_targets(torch.tensor([1]), 9, sigma=0.0)


def test_a_near_miss_costs_less_than_a_far_one():
    """Plain cross-entropy cannot tell a neighbouring bin from a distant one; smoothing can."""
    label = torch.tensor([10])
    near = torch.full((1, 21), -5.0).index_fill(1, torch.tensor([11]), 5.0)
    far = torch.full((1, 21), -5.0).index_fill(1, torch.tensor([18]), 5.0)
    assert torch.allclose(F.cross_entropy(near, label), F.cross_entropy(far, label))
    assert soft_bin_cross_entropy(near, label, 1.0) < soft_bin_cross_entropy(far, label, 1.0) - 1


def test_invalid_bins_with_infinite_logits_give_a_finite_loss():
    logits = torch.zeros(2, 8)
    logits[:, 6:] = float("-inf")  # bins 6, 7 do not exist for this dimension
    loss = soft_bin_cross_entropy(logits, torch.tensor([5, 0]), 2.0)
    assert torch.isfinite(loss) and abs(float(loss) - float(torch.log(torch.tensor(6.0)))) < 1e-5
    with pytest.raises(ValueError, match="logits"):
        soft_bin_cross_entropy(torch.zeros(2, 3, 4), torch.tensor([0, 1]), 1.0)
