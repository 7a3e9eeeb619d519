"""Cross-entropy over ordinal action bins with Gaussian label smoothing ("HL-Gauss").

Plain cross-entropy treats bin 5 and bin 6 as unrelated classes, though the actions they stand for
differ by one bin width. Spreading each label over its neighbours with a Gaussian of ``sigma``
bins (Imani & White 2018; Farebrother et al. 2024, "Stop Regressing") tells the model that a near
miss is nearly right, so every sample teaches the ordering of the bins as well as the class.
``sigma=0`` is plain cross-entropy. Only the loss changes: inference still takes the argmax.

>>> import torch
>>> logits = torch.zeros(1, 5)
>>> round(float(soft_bin_cross_entropy(logits, torch.tensor([2]), sigma=0.0)), 4)  # ln 5
1.6094
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from rt2.backbones.base import IGNORE_INDEX as IGNORE  # labels that add nothing to the loss


def gaussian_bin_targets(
    targets: torch.Tensor, num_bins: int, sigma: float, valid: torch.Tensor | None = None
) -> torch.Tensor:
    """Bin labels (N,) -> target distributions (N, num_bins): a Gaussian of ``sigma`` bins around
    each label, restricted to ``valid`` (N, num_bins) bool bins and renormalised."""
    if sigma <= 0:
        raise ValueError(f"gaussian_bin_targets: sigma must be > 0 bins, got {sigma}")
    k = torch.arange(num_bins, device=targets.device, dtype=torch.float32)  # (NB,)
    q = torch.exp(-0.5 * ((k[None] - targets[:, None].float()) / sigma) ** 2)  # (N, NB)
    if valid is not None:
        q = q * valid
    return q / q.sum(-1, keepdim=True)


def soft_bin_cross_entropy(
    logits: torch.Tensor,
    targets: torch.Tensor,
    sigma: float,
    valid: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mean cross-entropy of logits (N, NB) (invalid bins may be -inf) against labels (N,)
    smoothed over ``sigma`` bins; labels equal to ``IGNORE`` are skipped. ``valid`` (N, NB) or
    (NB,) marks the bins a label may spread onto (default: the bins with finite logits)."""
    if logits.ndim != 2 or targets.shape != logits.shape[:1]:
        raise ValueError(
            f"expected logits (N, NB) and targets (N,), got {tuple(logits.shape)} and "
            f"{tuple(targets.shape)}"
        )
    if sigma <= 0:
        return F.cross_entropy(logits.float(), targets, ignore_index=IGNORE)
    valid = torch.isfinite(logits) if valid is None else valid.expand_as(logits)
    keep = targets != IGNORE
    logits, targets, valid = logits[keep].float(), targets[keep], valid[keep]
    q = gaussian_bin_targets(targets, logits.shape[-1], sigma, valid)  # (N, NB)
    logp = logits.log_softmax(-1).masked_fill(~valid, 0.0)  # 0 * -inf would be nan
    return -(q * logp).sum(-1).mean()
