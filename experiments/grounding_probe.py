"""Do frozen EfficientNet-Lite0 features hold what a VLA needs to ground the named object?

    .venv/bin/python experiments/grounding_probe.py [--stride 16] [--text gru|bow]
        [--target block|goal|arm] [--steps 3000] [--fine]

A probe, not a VLA: a small head trained in minutes on features computed once. The frozen trunk
(as rt2-mini uses it) maps each 128 px frame to a feature map; an instruction encoder (a GRU over
words, or a bag of words) FiLM-modulates a two-layer conv head, whose heatmap (upsampled to the
32 x 32 plan grid) is trained with cross-entropy on the target's cell. Held-out accuracy (within 1 /
within 3 cells, 512 frames of 40 held-out episodes) against training samples says how much of the
grounding problem the features and the words alone solve, and how many samples a head needs: the
bar for a VLA that must learn the same thing through a language model (notes/rt2-mini-acts.md).

``--fine`` appends the stride-8 map (block 3, 40 channels), space-to-depth'd onto the stride-16
grid (160 channels), keeping 64 positions: what a 64-token VLA could see of sub-token position.
Features are cached under ``--cache`` (the trunk runs at ~70 frames/s on 2 cores: ~11 min for
the 47k frames of 3,000 episodes).
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from rt2.backbones.efficientnet_trunk import EfficientNetTrunk
from rt2.data.plan import PlanFormat
from rt2.data.robot import RobotSource, load_robot_sources

GRID = PlanFormat(bins=32)
TARGETS = {"arm": slice(0, 2), "block": slice(2, 4), "goal": slice(4, 6)}


def features(src: RobotSource, stride: int, cache: Path) -> torch.Tensor:
    """(N, C, G, G) float16 frozen trunk features of every frame, cached on disk."""
    if cache.exists():
        return torch.load(cache)
    trunk = EfficientNetTrunk(src.images.shape[1], stride=stride)
    out = []
    with torch.no_grad():
        for i in range(0, len(src), 256):
            x = torch.as_tensor(src.images[i : i + 256]).permute(0, 3, 1, 2).float() / 127.5 - 1
            out.append(trunk(x).to(torch.float16))
            print(f"\rfeatures {i + len(x)}/{len(src)}", end="", flush=True)
    print()
    feats = torch.cat(out)
    cache.parent.mkdir(parents=True, exist_ok=True)
    torch.save(feats, cache)
    return feats


class Words:
    """Lower-case words -> ids (0 = padding), grown on first sight."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}

    def encode(self, texts: list[str], grow: bool) -> torch.Tensor:
        rows = []
        for t in texts:
            words = re.findall(r"[a-z]+", t.lower())
            rows.append(
                [
                    self.ids.setdefault(w, len(self.ids) + 1) if grow else self.ids.get(w, 0)
                    for w in words
                ]
            )
        out = torch.zeros(len(rows), max(map(len, rows)), dtype=torch.long)
        for i, r in enumerate(rows):
            out[i, : len(r)] = torch.as_tensor(r)
        return out  # (N, L)


class FiLMHead(nn.Module):
    """(B, C, G, G) features + (B, L) word ids -> (B, 32 * 32) logits over plan cells (row 0 =
    the image's top = the table's far edge, so row r is y-cell 31 - r)."""

    def __init__(self, channels: int, vocab: int, text: str, width: int = 128) -> None:
        super().__init__()
        self.text = text
        self.embed = nn.Embedding(vocab + 1, width, padding_idx=0)
        self.gru = nn.GRU(width, width, batch_first=True) if text == "gru" else None
        self.inp = nn.Conv2d(channels + 2, width, 1)
        self.film = nn.Linear(width, 2 * width)
        self.mid = nn.Conv2d(width, width, 3, padding=1)
        self.out = nn.Conv2d(width, 1, 1)

    def instruction(self, words: torch.Tensor) -> torch.Tensor:
        e = self.embed(words)  # (B, L, W)
        if self.gru is None:
            n = (words > 0).sum(1, keepdim=True).clamp(min=1)
            return e.sum(1) / n
        lengths = (words > 0).sum(1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(
            e, lengths, batch_first=True, enforce_sorted=False
        )
        return self.gru(packed)[1][0]  # (B, W)

    def forward(self, feats: torch.Tensor, words: torch.Tensor) -> torch.Tensor:
        b, _, g, _ = feats.shape
        ys, xs = torch.meshgrid(torch.linspace(-1, 1, g), torch.linspace(-1, 1, g), indexing="ij")
        pos = torch.stack([xs, ys]).expand(b, 2, g, g)
        h = F.relu(self.inp(torch.cat([feats.float(), pos], 1)))
        gain, bias = self.film(self.instruction(words)).chunk(2, -1)
        h = F.relu(h * (1 + gain[..., None, None]) + bias[..., None, None])
        h = F.relu(self.mid(h))
        heat = F.interpolate(
            self.out(h), size=(GRID.bins, GRID.bins), mode="bilinear", align_corners=False
        )
        return heat.flatten(1)


def cell_index(cells: torch.Tensor) -> torch.Tensor:
    """(N, 2) plan cells (x, y) -> heatmap index (row = bins - 1 - y)."""
    return (GRID.bins - 1 - cells[:, 1]) * GRID.bins + cells[:, 0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("/tmp/rt2-pointing/train3000"))
    ap.add_argument("--heldout", type=Path, default=Path("/tmp/rt2-pointing/heldout40"))
    ap.add_argument("--cache", type=Path, default=Path("/tmp/rt2-grounding-probe"))
    ap.add_argument("--stride", type=int, choices=(8, 16, 32), default=16)
    ap.add_argument("--fine", action="store_true", help="add stride-8 features, space-to-depth")
    ap.add_argument("--text", choices=("gru", "bow"), default="gru")
    ap.add_argument("--target", choices=tuple(TARGETS), default="block")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    for root in (args.data, args.heldout):
        if not (root / "meta" / "info.json").exists():
            raise SystemExit(
                f"{root}: no dataset; `experiments/pointing.py` collects both (or `rt2 collect`)"
            )
    train, _ = load_robot_sources(args.data, 0, plan=GRID)
    held, _ = load_robot_sources(args.heldout, 0, plan=GRID)
    assert train.plan_states is not None and held.plan_states is not None

    def feats(src: RobotSource, name: str) -> torch.Tensor:
        f = features(src, args.stride, args.cache / f"{name}-s{args.stride}.pt")
        if args.fine:
            fine = features(src, 8, args.cache / f"{name}-s8.pt")
            f = torch.cat([f, F.pixel_unshuffle(fine, fine.shape[-1] // f.shape[-1])], 1)
        return f

    t0 = time.perf_counter()
    x_train, x_held = feats(train, args.data.name), feats(held, args.heldout.name)
    print(f"features {tuple(x_train.shape)} in {time.perf_counter() - t0:.0f} s")
    words = Words()
    w_train = words.encode(list(train.instructions), grow=True)[torch.as_tensor(train.episode_of)]
    w_held = words.encode(list(held.instructions), grow=False)[torch.as_tensor(held.episode_of)]
    part = TARGETS[args.target]
    y_train = cell_index(
        torch.as_tensor(np.stack([GRID.cells(p)[part] for p in train.plan_states]))
    )
    c_held = torch.as_tensor(np.stack([GRID.cells(p)[part] for p in held.plan_states]))

    head = FiLMHead(x_train.shape[1], len(words.ids), args.text)
    opt = torch.optim.AdamW(head.parameters(), lr=args.lr)
    rng = np.random.default_rng(0)
    evals = torch.as_tensor(rng.choice(len(held), min(512, len(held)), replace=False))
    print(f"{len(train)} frames, target {args.target}, text {args.text}; chance within 1 ~1%")
    print("samples | loss | within 1 cell | within 3 cells | seconds")
    t0 = time.perf_counter()
    for step in range(1, args.steps + 1):
        i = torch.as_tensor(rng.integers(0, len(train), args.batch))
        loss = F.cross_entropy(head(x_train[i], w_train[i]), y_train[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % max(1, args.steps // 10) == 0:
            with torch.no_grad():
                p = head(x_held[evals], w_held[evals]).argmax(1)
            c = c_held[evals]
            err = torch.maximum(
                (p % GRID.bins - c[:, 0]).abs(), (GRID.bins - 1 - p // GRID.bins - c[:, 1]).abs()
            )
            print(
                f"{step * args.batch} | {loss.item():.3f} | {(err <= 1).float().mean():.1%}"
                f" | {(err <= 3).float().mean():.1%} | {time.perf_counter() - t0:.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
