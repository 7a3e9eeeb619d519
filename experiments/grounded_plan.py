"""Can rt2-mini's image side write the whole grounded plan (arm, block, goal) precisely enough
to act on? A proxy of minutes: no LM pass per sample.

    .venv/bin/python experiments/grounded_plan.py [--condition gru|lm] [--steps 2000]
        [--batch 64] [--option ground_width=256] [--init CKPT [--write]]

An MLP acting on the true plan succeeds 100% on `seen`, and still 97% / 82% with every position
off by up to 2 / 3 plan cells (of 32; notes/tiny-vla.md). So the question for a policy that
writes its plan from a grounding head is how often each of the three positions lands within 1-2
plan cells. rt2-mini's grounding head (``ground``, rt2.backbones.grounding) reads the FiLM'd
image tokens (8 x 8 cells of the frozen EfficientNet-Lite0 stride-16 map, features cached by
experiments/pointing.py) and is trained by the VLA's own grounding loss (cell cross-entropy +
10 x L1 of the table position); only the image side learns (projector, FiLM, head). FiLM's condition is a GRU over the
instruction's word embeddings (``gru``, rt2-mini's ``film``) or the frozen SmolLM2's own reading
of the instruction (``lm``: its mean hidden state at layer ``--lm-layer``, once per instruction).

With ``--init CKPT`` the image side starts from a VLA checkpoint (its prompts as that VLA writes
them), and ``--write`` stores the trained image side back into the checkpoint's weights (the
rest unchanged), so a run resumed from it (``rt2 train ... --resume``) acts with a trained
grounding head: a warm-up of minutes on cached features instead of thousands of VLA steps.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from pointing import GRID, data, trunk_features
from safetensors.torch import load_file, save_file
from torch import nn

from rt2.backbones.grounding import GROUND_TARGETS as TARGETS
from rt2.backbones.grounding import read_positions
from rt2.model import build_vla
from rt2.samples import RobotSample
from rt2.training.checkpoint import latest_checkpoint
from rt2.training.factory import load_model

#: what this script trains (and --write stores)
IMAGE_SIDE = (
    "backbone.projector.", "backbone.film", "backbone.image_pos", "backbone.ground_head.",
)  # fmt: skip


class LMCondition(nn.Module):
    """The frozen LM's mean hidden state over the instruction (cached per instruction) -> (B, W)."""

    def __init__(self, bb, layer: int, width: int) -> None:
        super().__init__()
        self.bb, self.layer, self.cache = bb, layer, {}
        self.proj = nn.Sequential(nn.Linear(bb.base_lm.config.hidden_size, width), nn.GELU())

    @torch.no_grad()
    def reading(self, text: str) -> torch.Tensor:
        if text not in self.cache:
            ids = torch.as_tensor([self.bb.tokenizer.encode(text)])
            out = self.bb.base_lm.model(input_ids=ids, output_hidden_states=True)
            self.cache[text] = out.hidden_states[self.layer][0].float().mean(0)  # (D,)
        return self.cache[text]

    def forward(self, texts: list[str]) -> torch.Tensor:
        return self.proj(torch.stack([self.reading(t) for t in texts]))


@dataclass(frozen=True)
class Frames:
    """Frames to ground: frozen trunk features, their instructions and true plans."""

    x: torch.Tensor  # (N, C, g, g) float16
    texts: list[str]
    plans: np.ndarray  # (N, 6) arm, block, goal in table half-extents

    def __len__(self) -> int:
        return len(self.texts)


def robot_frames(bb, src, path: Path) -> Frames:
    """Every frame of a collected dataset (the noisy expert's states)."""
    texts = [src.instructions[src.episode_of[i]] for i in range(len(src))]
    return Frames(trunk_features(bb, src, path), texts, np.asarray(src.plan_states))


def recorded_frames(bb, path: Path) -> Frames:
    """Frames a policy reached (``plan_source.py --record``), or every frame of another
    collected dataset (a directory); features cached beside them."""
    if path.is_dir():
        return robot_frames(bb, data(path, 0, 0), path.with_suffix(".s16.pt"))
    rec = np.load(path)
    cache = path.with_suffix(".s16.pt")
    if cache.exists():
        x = torch.load(cache)
    else:
        with torch.no_grad():
            x = torch.cat(
                [bb._features(bb.preprocess_images(rec["images"][i : i + 256])).half()
                 for i in range(0, len(rec["images"]), 256)]
            )  # fmt: skip
        torch.save(x, cache)
    return Frames(x, [str(t) for t in rec["instructions"]], rec["plans"].reshape(len(x), -1))


def gru_condition(vla, texts: list[str]) -> torch.Tensor:
    """The FiLM GRU's reading of each instruction's robot prompt, as the VLA builds it."""
    tok = vla.backbone.tokenizer
    ids = [vla.builder.prompt_ids(RobotSample(None, t)) for t in texts]  # type: ignore[arg-type]
    input_ids = torch.full((len(ids), max(map(len, ids))), tok.pad_id)
    for r, row in enumerate(ids):
        input_ids[r, : len(row)] = torch.as_tensor(row)
    return vla.backbone.condition(input_ids, input_ids != tok.pad_id)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--condition", choices=("gru", "lm"), default="gru")
    ap.add_argument("--lm-layer", type=int, default=30)
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--evals", type=int, default=6)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "rt2-pointing")
    ap.add_argument("--option", action="append", default=[], help="backbone option k=v")
    ap.add_argument("--init", type=Path, help="start from this VLA checkpoint's image side")
    ap.add_argument("--write", action="store_true", help="store the result back into --init")
    ap.add_argument(
        "--extra", type=Path, help="on-policy frames (plan_source.py --record) to mix in"
    )
    ap.add_argument("--extra-share", type=float, default=0.5, help="their share of each batch")
    ap.add_argument("--held-extra", type=Path, help="held-out on-policy frames to score on")
    args = ap.parse_args()
    if args.write and (args.init is None or args.condition != "gru"):
        ap.error("--write needs --init and the VLA's own FiLM (--condition gru)")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    opts = dict(
        freeze_vision=True, freeze_lm=True, lora_rank=8, vision_stride=16, image_tokens=64,
        pos_embed=True, pos_init="sincos", prefix_lm=True, film=True, ground=True,
    )  # fmt: skip
    for kv in args.option:
        k, v = kv.split("=", 1)
        opts[k] = int(v) if v.isdigit() else {"true": True, "false": False}.get(v.lower(), v)
    if args.init is not None:
        vla = load_model(args.init)
    else:
        vla = build_vla("rt2-mini", "language_table", num_bins=21, **opts)  # type: ignore[arg-type]
    bb = vla.backbone
    train_src = data(args.cache / "train3000", 3000, 200_000)
    held_src = data(args.cache / "heldout40", 40, 900_000)
    train = robot_frames(bb, train_src, args.cache / f"train{len(train_src)}-s16.pt")
    held = robot_frames(bb, held_src, args.cache / f"held{len(held_src)}-s16.pt")
    extra = recorded_frames(bb, args.extra) if args.extra else None
    held_extra = recorded_frames(bb, args.held_extra) if args.held_extra else None
    cond = LMCondition(bb, args.lm_layer, bb.config.film_width) if args.condition == "lm" else None
    params = [*bb.projector.parameters(), *bb.film.parameters(), bb.image_pos]
    params += [*bb.ground_head.parameters()]
    params += [*(cond.proj.parameters() if cond else bb.film_text.parameters())]
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)

    def tokens(f: Frames, idx):
        texts = [f.texts[i] for i in idx]
        c = cond(texts) if cond is not None else gru_condition(vla, texts)
        return bb.project(f.x[torch.as_tensor(idx)].float(), c)  # (B, N, D)

    def where(f: Frames, idx):  # (B, K, 4) the grounding loss's targets, as the trainer's are
        return torch.as_tensor(np.stack([train_src._where(f.plans[i]) for i in idx]))

    def score(f: Frames, n=512):
        idx = np.random.default_rng(1).choice(len(f), min(n, len(f)), replace=False)
        with torch.no_grad():
            pred = read_positions(*bb.grounding(tokens(f, idx))).numpy()  # (B, K, 2)
        truth = f.plans[idx].reshape(pred.shape)
        cells = [np.stack([GRID.cells(p.reshape(-1)) for p in v]) for v in (pred, truth)]
        err = np.abs(cells[0] - cells[1]).reshape(pred.shape).max(-1)  # (B, K) Chebyshev
        return "  ".join(
            f"{t} {np.mean(err[:, k] <= 1):.0%}/{np.mean(err[:, k] <= 2):.0%}"
            for k, t in enumerate(TARGETS)
        )

    print(f"condition {args.condition}; {len(train)} expert frames"
          + (f" + {len(extra)} on-policy ({args.extra_share:.0%} of each batch)" if extra else "")
          + "; held-out within 1 / 2 plan cells (of 32) per target")  # fmt: skip
    rng, t0 = np.random.default_rng(0), time.perf_counter()
    n_extra = round(args.batch * args.extra_share) if extra else 0
    for step in range(1, args.steps + 1):
        parts = [(train, rng.integers(0, len(train), args.batch - n_extra))]
        if n_extra:
            parts.append((extra, rng.integers(0, len(extra), n_extra)))
        with torch.autocast("cpu", dtype=torch.bfloat16):
            x = torch.cat([tokens(f, i) for f, i in parts])
            loss, metrics = vla.grounding_loss(x, torch.cat([where(f, i) for f, i in parts]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % max(1, args.steps // args.evals) == 0:
            rows = f"expert {score(held)}"
            if held_extra is not None:
                rows += f" | on-policy {score(held_extra)}"
            print(f"{step * args.batch:>6} samples | loss {loss.item():.2f} l1 "
                  f"{metrics['ground_l1']:.3f} | {rows} | {time.perf_counter() - t0:.0f}s",
                  flush=True)  # fmt: skip
    if args.write:
        write_image_side(vla, args.init)


def write_image_side(vla, ckpt: Path) -> None:
    """Replace the image side's tensors in ``ckpt``'s weights file (atomically)."""
    ckpt = latest_checkpoint(ckpt) if (ckpt / "checkpoints").is_dir() else ckpt
    path = ckpt / "model.safetensors"
    state = load_file(str(path))
    own = {k: v.detach().to(state[k].dtype) for k, v in vla.state_dict().items() if k in state}
    changed = [k for k in own if k.startswith(IMAGE_SIDE) and not torch.equal(own[k], state[k])]
    state.update({k: own[k].contiguous() for k in changed})
    tmp = path.with_suffix(".tmp")
    save_file(state, str(tmp))
    os.replace(tmp, path)
    print(f"wrote {len(changed)} image-side tensors into {path}")


if __name__ == "__main__":
    main()
