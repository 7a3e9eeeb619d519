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

from rt2.data.collect import CollectConfig, collect
from rt2.data.plan import PlanFormat
from rt2.data.robot import RobotSource, load_robot_sources
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
    print("step | loss | within 1 cell | within 3 cells | seconds")
    t0 = time.perf_counter()
    for step in range(1, args.steps + 1):
        idx = rng.integers(0, len(train), args.batch)
        batch = vla.collate([sample(train, int(i), args.answer, args.target) for i in idx])
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = vla.loss(batch)
            loss = out.loss
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
