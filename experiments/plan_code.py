"""Which plan text makes the actions easiest to learn from tokens: absolute or relative cells?

    .venv/bin/python experiments/plan_code.py [--data data/seen3k] [--steps 1500] [--threads 1]

A policy that reads a grounded plan must turn the plan's tokens into action bins. Written
absolutely (``arm Q Q, block A f, goal Y I``), the push direction is a difference of two
tokens that the model must learn for every pair; written relatively (the block's offset from the
arm, the goal's from the block), the direction is in the tokens themselves. This trains the same
small transformer (2 layers, d=128, from scratch) on each code, reading the plan's 6 tokens plus
the instruction's task family to predict the expert's first action (21 bins per axis, the
presets' code book), and prints held-out bin accuracy against samples seen. A cheap stand-in for
the LM's own learning speed (which costs ~1 h per point here): a code that a small model learns
faster is a code the LM can read sooner.
"""

from __future__ import annotations

import argparse
import glob
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import torch
from torch import nn

BINS, BOUND, GRID = 21, 0.045, 32  # action bins per axis, their range (m), plan cells


def load(root: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(N, 6) plan states in half-extents, (N, 2) actions, (N,) episode index."""
    cols = ["observation.environment_state", "action", "episode_index"]
    tables = [pq.read_table(f, columns=cols) for f in sorted(glob.glob(f"{root}/data/*/*.parquet"))]
    state = np.concatenate(
        [np.stack(t.column(cols[0]).to_numpy(zero_copy_only=False)) for t in tables]
    )
    action = np.concatenate(
        [np.stack(t.column(cols[1]).to_numpy(zero_copy_only=False)) for t in tables]
    )
    episode = np.concatenate([t.column(cols[2]).to_numpy() for t in tables])
    return state.astype(np.float64), action, episode


def tokens(state: np.ndarray, code: str) -> np.ndarray:
    """(N, 6) states -> (N, 6) token ids: cells 0..31 (absolute) or offsets -31..31 -> 0..62."""
    cells = np.clip(np.floor((state + 1) / 2 * GRID), 0, GRID - 1).astype(int)  # (N, 6)
    if code == "absolute":
        return cells
    arm, block, goal = cells[:, 0:2], cells[:, 2:4], cells[:, 4:6]
    return np.concatenate([arm, block - arm + GRID - 1, goal - block + GRID - 1], axis=1)


class Reader(nn.Module):
    def __init__(self, vocab: int = 2 * GRID, d: int = 128) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(torch.randn(7, d) * 0.02)
        layer = nn.TransformerEncoderLayer(d, 4, 4 * d, dropout=0.0, batch_first=True)
        self.body = nn.TransformerEncoder(layer, 2)
        self.cls = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        self.out = nn.Linear(d, 2 * BINS)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:  # (B, 6) -> (B, 2, BINS)
        x = torch.cat([self.cls.expand(len(ids), -1, -1), self.embed(ids)], 1) + self.pos
        return self.out(self.body(x)[:, 0]).view(-1, 2, BINS)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("data/seen3k"))
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    state, action, episode = load(args.data)
    bins = np.clip(((action + BOUND) / (2 * BOUND) * BINS).astype(int), 0, BINS - 1)
    held = episode >= np.unique(episode)[-100]  # the last 100 episodes
    print(f"{len(state)} frames, {held.sum()} held out; held-out bin accuracy (both axes right)")
    for code in ("absolute", "relative"):
        torch.manual_seed(0)
        ids, y = torch.as_tensor(tokens(state, code)), torch.as_tensor(bins)
        model = Reader()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
        train = np.flatnonzero(~held)
        rng, t0 = np.random.default_rng(0), time.perf_counter()
        row = []
        for step in range(1, args.steps + 1):
            idx = torch.as_tensor(rng.choice(train, args.batch))
            loss = nn.functional.cross_entropy(model(ids[idx]).flatten(0, 1), y[idx].flatten())
            opt.zero_grad()
            loss.backward()
            opt.step()
            if step % (args.steps // 5) == 0:
                with torch.no_grad():
                    pred = model(ids[held]).argmax(-1)
                axis = (pred == y[held]).float().mean(0)
                both = (pred == y[held]).all(1).float().mean()
                row.append(f"{step * args.batch}: x {axis[0]:.2f} y {axis[1]:.2f} both {both:.2f}")
        print(f"{code:>8} | " + " | ".join(row) + f" | {time.perf_counter() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main()
