"""Can a VLA learn to *point*? Train it on one question, "where is the arm?", from pixels.

    .venv/bin/python experiments/pointing.py [--episodes 3000] [--steps 1200] [--answer digits]
        [--backbone tiny|rt2-mini] [--option stem=efficientnet-lite0 ...] [--eval-every 200]

Grounded plans (``data.plan_bins``) and the pointing web items both need the VLA to read where
something is from its image tokens and write it as text. This isolates that skill on the easiest
target, the robot's effector, which is visible in every frame: collect ``--episodes`` `seen`
episodes (plan state recorded), answer "x y" (``digits``: grid cells 0-31 as numbers, 2-3 byte
tokens per coordinate) or one letter per coordinate (``letters``: one token each), and print
held-out accuracy every 200 steps next to chance. A conv head on frozen EfficientNet features
finds the effector within one cell in ~250 steps (notes/grounding.md), so this is the bar.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from rt2.data.collect import CollectConfig, collect
from rt2.data.plan import PlanFormat
from rt2.data.robot import RobotSource, load_robot_sources
from rt2.envs.tabletop.render import table_to_image
from rt2.model import build_vla
from rt2.samples import TextSample
from rt2.training.presets import TINY_LR

# rt2-mini as its presets train it: frozen trunk and SmolLM2, LoRA on the LM, projector
RT2_MINI_LORA = {"freeze_vision": True, "freeze_lm": True, "lora_rank": 8}

GRID = PlanFormat(bins=32)
PROMPT = "Q: where is the arm? A:"


def encode(cells: np.ndarray, answer: str) -> str:
    return PlanFormat(code=answer).point((cells + 0.5) / GRID.bins * 2 - 1)  # "12 7" / "M H"


def decode(text: str, answer: str) -> np.ndarray | None:
    cells = PlanFormat(code=answer).parse_point(" ".join(text.split()[:2]))
    return None if cells is None else np.array(cells)


def sample(src: RobotSource, i: int, answer: str, target: str = "arm") -> TextSample:
    assert src.plan_states is not None
    cells = GRID.cells(src.plan_states[i])
    if target == "arm":
        return TextSample(src.images[i], PROMPT, encode(cells[:2], answer))
    prompt = f"{src.instructions[src.episode_of[i]]} Q: where is the object to move? A:"
    return TextSample(src.images[i], prompt, encode(cells[2:4], answer))


def data(root: Path, episodes: int, seed: int) -> RobotSource:
    if not (root / "meta" / "info.json").exists():
        collect(CollectConfig(out=root, suite="seen", episodes=episodes, noise=0.2, seed=seed))
    src, _ = load_robot_sources(root, 0, plan=GRID)
    return src


class Grounding:
    """The grounding loss on rt2-mini's FiLM'd image tokens: cross-entropy over the 64 image
    cells on the one that holds the named block (image row 0 = the table's far edge)."""

    def __init__(self, vla, train: RobotSource, held: RobotSource, cache: Path) -> None:
        self.bb, self.train, self.held = vla.backbone, train, held
        self.x_train = trunk_features(self.bb, train, cache / f"train{len(train)}-s16.pt")
        self.x_held = trunk_features(self.bb, held, cache / f"held{len(held)}-s16.pt")
        self.params = [
            p
            for m in (self.bb.projector, self.bb.film_text, self.bb.film, self.bb.ground_head)
            for p in m.parameters()
        ] + ([self.bb.image_pos] if self.bb.image_pos is not None else [])

    def target(self, src: RobotSource, idx: np.ndarray) -> torch.Tensor:
        g = self.bb.config.grid
        xy = np.stack([src.plan_states[i][2:4] for i in idx])  # (B, 2) in table half-extents
        uv = table_to_image(xy)  # (B, 2) in [0, 1]
        col, row = np.minimum((uv * g).astype(int), g - 1).T
        return torch.as_tensor(row * g + col)  # (B,)

    def logits(self, src: RobotSource, x: torch.Tensor, idx: np.ndarray) -> torch.Tensor:
        tok = self.bb.tokenizer
        ids = [tok.encode(sample(src, int(i), "letters", "block").prompt) for i in idx]
        width = max(map(len, ids))
        input_ids = torch.full((len(ids), width), tok.pad_id)
        for r, row in enumerate(ids):
            input_ids[r, : len(row)] = torch.as_tensor(row)
        mask = input_ids != tok.pad_id
        tokens = self.bb.project(
            x[torch.as_tensor(idx)].float(), self.bb.condition(input_ids, mask)
        )
        return self.bb.grounding_logits(tokens)  # (B, N)

    def loss(self, idx: np.ndarray) -> torch.Tensor:
        return F.cross_entropy(self.logits(self.train, self.x_train, idx).float(),
                               self.target(self.train, idx))  # fmt: skip

    @torch.no_grad()
    def score(self, n: int = 512) -> tuple[float, float]:
        """Held-out: the argmax cell is the block's / within one cell of it."""
        idx = np.random.default_rng(1).choice(len(self.held), min(n, len(self.held)), replace=False)
        g = self.bb.config.grid
        with torch.autocast("cpu", dtype=torch.bfloat16):
            p = self.logits(self.held, self.x_held, idx).argmax(1)
        t = self.target(self.held, idx)
        err = torch.maximum((p // g - t // g).abs(), (p % g - t % g).abs())
        return float((err == 0).float().mean()), float((err <= 1).float().mean())

    def warm_up(self, steps: int, rng: np.random.Generator, batch: int = 64) -> None:
        if not steps:
            return
        opt = torch.optim.AdamW(self.params, lr=1e-3, weight_decay=0.01)
        print("grounding warm-up: samples | loss | held-out cell exact | within 1 cell | seconds")
        t0 = time.perf_counter()
        for step in range(1, steps + 1):
            with torch.autocast("cpu", dtype=torch.bfloat16):
                loss = self.loss(rng.integers(0, len(self.train), batch))
            opt.zero_grad()
            loss.backward()
            opt.step()
            if step % max(1, steps // 10) == 0:
                exact, near = self.score()
                print(f"{step * batch} | {loss.item():.3f} | {exact:.0%} | {near:.0%}"
                      f" | {time.perf_counter() - t0:.0f}", flush=True)  # fmt: skip


def trunk_features(bb, src: RobotSource, path: Path) -> torch.Tensor:
    """(N, C, g, g) frozen trunk features of every frame (float16), computed once to ``path``."""
    if path.exists():
        return torch.load(path)
    out = []
    with torch.no_grad():
        for i in range(0, len(src), 256):
            out.append(bb._features(bb.preprocess_images(src.images[i : i + 256])).half())
            print(f"\rfeatures {i + len(out[-1])}/{len(src)}", end="", flush=True)
    print()
    feats = torch.cat(out)
    torch.save(feats, path)
    return feats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--episodes", type=int, default=3000)
    ap.add_argument("--steps", type=int, default=1200)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=TINY_LR, help="default: the tiny presets' rate")
    # letters: rt2.data.plan.LETTERS (A..Z a..f, one token each); before session 15 cells 26-31
    # were written as chr(65 + k), i.e. [ \ ] ^ _ `
    ap.add_argument("--answer", choices=("digits", "letters"), default="digits")
    ap.add_argument(
        "--target",
        choices=("arm", "block"),
        default="arm",
        help="arm: 'where is the arm?'; block: the object the instruction names",
    )
    ap.add_argument("--backbone", choices=("tiny", "rt2-mini"), default="tiny")
    ap.add_argument("--option", action="append", default=[], help="backbone option k=v")
    ap.add_argument("--eval-every", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "rt2-pointing")
    ap.add_argument(
        "--ground-steps",
        type=int,
        default=0,
        help="rt2-mini with film+ground: first train only the projector, FiLM and the grounding "
        "head on the named block's image cell (no LM; features computed once)",
    )
    ap.add_argument(
        "--ground-weight", type=float, default=0.0, help="grounding loss in the LM phase"
    )
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    opts: dict[str, object] = {"pool": 1} if args.backbone == "tiny" else dict(RT2_MINI_LORA)
    for kv in args.option:
        k, v = kv.split("=", 1)
        opts[k] = int(v) if v.isdigit() else {"true": True, "false": False}.get(v.lower(), v)
    train = data(args.cache / f"train{args.episodes}", args.episodes, 200_000)
    held = data(args.cache / "heldout40", 40, 900_000)
    rng = np.random.default_rng(0)
    evals = [
        sample(held, int(i), args.answer, args.target)
        for i in rng.choice(len(held), 128, replace=False)
    ]
    vla = build_vla(args.backbone, "language_table", num_bins=21, **opts)  # type: ignore[arg-type]
    params = [p for p in vla.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    print(f"{args.backbone} {opts}: {sum(p.numel() for p in params):,} trainable parameters")
    print(f"{len(train)} frames; answer {args.answer}; chance within 1 cell ~{(3 / 32) ** 2:.2%}")
    if args.ground_steps or args.ground_weight:
        grounding = Grounding(vla, train, held, args.cache)
        grounding.warm_up(args.ground_steps, rng)
    print("step | loss | within 1 cell | within 3 cells | seconds")
    t0 = time.perf_counter()
    for step in range(1, args.steps + 1):
        idx = rng.integers(0, len(train), args.batch)
        batch = vla.collate([sample(train, int(i), args.answer, args.target) for i in idx])
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = vla.loss(batch)
            loss = out.loss
            if args.ground_weight:
                loss = loss + args.ground_weight * grounding.loss(idx)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if step % args.eval_every == 0 or step == args.steps:
            vla.eval()
            answers = vla.answer([s.image for s in evals], [s.prompt for s in evals])
            vla.train()
            err = np.array(
                [
                    99
                    if (g := decode(a, args.answer)) is None
                    else int(np.abs(g - decode(s.answer, args.answer)).max())
                    for a, s in zip(answers, evals, strict=True)
                ]
            )
            print(
                f"{step} | {out.metrics['loss']:.3f} | {np.mean(err <= 1):.0%} | {np.mean(err <= 3):.0%}"
                f" | {time.perf_counter() - t0:.0f}"
            )


if __name__ == "__main__":
    main()
