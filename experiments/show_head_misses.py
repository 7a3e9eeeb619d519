"""Where does the grounding head put the named block when it misses? A picture of minutes.

    .venv/bin/python experiments/show_head_misses.py --init runs/rt2-mini-v2/checkpoints/step-001000 \
        --frames /tmp/rt2-onpolicy/held-head.npz --out miss.png

``--frames``: frames a policy reached (``plan_source.py --record``). Draws 12 frames whose block
reading is more than 2.5 plan cells off: true block (green), the head's reading (red), the arm
(cyan), with the instruction.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from grounded_plan import gru_condition, recorded_frames
from PIL import Image, ImageDraw

from rt2.backbones.grounding import read_positions
from rt2.envs.tabletop.render import table_to_image
from rt2.training.factory import load_model

TILE = 256


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--init", type=Path, required=True, help="a head-planning VLA checkpoint")
    ap.add_argument("--frames", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=Path("head-misses.png"))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    vla = load_model(args.init).eval()
    bb = vla.backbone
    frames, images = recorded_frames(bb, args.frames), np.load(args.frames)["images"]
    with torch.no_grad():
        tokens = bb.project(frames.x.float(), gru_condition(vla, frames.texts))
        pred = read_positions(*bb.grounding(tokens)).numpy()  # (N, 3, 2) arm, block, goal
    truth = frames.plans.reshape(-1, 3, 2)
    err = np.abs(pred[:, 1] - truth[:, 1]).max(-1) / (2 / 32)  # plan cells of 32
    miss = np.flatnonzero(err > 2.5)
    print(f"block missed by > 2.5 plan cells in {len(miss)} of {len(err)} frames")
    pick = np.random.default_rng(args.seed).choice(miss, min(12, len(miss)), replace=False)
    grid = Image.new("RGB", (TILE * 4, TILE * 3))
    for k, i in enumerate(pick):
        im = Image.fromarray(images[i]).resize((TILE, TILE))
        draw = ImageDraw.Draw(im)
        for xy, colour in ((truth[i, 1], "lime"), (pred[i, 1], "red"), (truth[i, 0], "cyan")):
            u, v = (c * TILE for c in table_to_image(xy))
            draw.ellipse([u - 6, v - 6, u + 6, v + 6], outline=colour, width=2)
        draw.text((2, 2), frames.texts[i][:40], fill="white")
        grid.paste(im, ((k % 4) * TILE, (k // 4) * TILE))
    grid.quantize(64).save(args.out, optimize=True)
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
