"""Where does a VLM look when asked to point? Two diagnostics of pointing, in about a minute.

    .venv/bin/python experiments/grounding_attention.py --checkpoint runs/rt2-mini-vlm [--n 64]

Greedy pointing accuracy (``rt2 eval-knowledge --sets pointing``) says *whether* a model finds the
thing a question names; this says *where it fails*, on held-out scattered scenes of the web
corpus (``"point to the red star."``):

1. **Attention on the named thing**, per decoder layer: the share of the answer position's
   attention to image tokens that falls on the tokens covering the named thing (found by drawing
   the scene with and without it), times 64, so 1.0 is a uniform look over the image and 64 a
   look at nothing else. Mean over heads and the best head.
2. **Does the answer position know where?** A ridge probe from the answer position's hidden
   state at each layer to the thing's (x, y) cell, fit on ``--n-fit`` training-split questions
   and scored (R^2) on ``--n`` held-out ones: 0 means the position never reached it.

rt2-mini only (64 stride-16 image tokens in front of the prompt).
"""

from __future__ import annotations

import argparse
import copy

import numpy as np
import torch

from rt2.data.plan import PlanFormat
from rt2.data.web import WebCorpus, WebCorpusConfig
from rt2.data.web_scenes import render, scattered_scene
from rt2.data.web_vqa import pointing
from rt2.samples import TextSample
from rt2.training.factory import load_model, saved_config


def questions(split: str, n: int, seed: int, grid: PlanFormat, size: int) -> list[dict]:
    """``n`` pointing questions with their picture, answer cell and (64,) mask of the named
    thing's share of each 16-px image cell (raster order)."""
    corpus = WebCorpus(
        WebCorpusConfig(size=n, seed=seed, image_size=size, split=split,
                        weights={"pointing": 1.0}, point_code=grid.code, cache_size=0)
    )  # fmt: skip
    out = []
    for i in range(n):
        rng = corpus._rng(i)  # replays WebCorpus._generate for a pointing item
        corpus._kind(rng)
        ws = scattered_scene(rng, 2 * int(rng.integers(2**30)) + corpus.split_id)
        image = render(ws, corpus._renderer)  # (S, S, 3)
        prompt, answer = pointing(ws, rng, grid)
        name = next(e.name for e, xy in ws.positions() if grid.point(xy) == answer)
        other = render(ws.without(name), corpus._renderer)
        drawn = np.abs(image.astype(int) - other.astype(int)).sum(-1) > 30  # (S, S)
        g = size // 16
        cells = drawn.reshape(g, 16, g, 16).sum((1, 3)).flatten().astype(float)  # (g*g,)
        out.append(
            {"image": image, "prompt": prompt, "cell": grid.parse_point(answer),
             "where": cells / max(cells.sum(), 1.0)}
        )  # fmt: skip
    return out


@torch.no_grad()
def run(model, items: list[dict], attention: bool) -> tuple[dict[int, np.ndarray], dict]:
    """-> per-layer answer-position states (N, D) and per-layer attention ratios (N, H)."""
    bb = model.backbone
    layers = bb.base_lm.model.layers
    n_img = bb.num_image_tokens
    if attention:  # eager attention returns its weights
        for layer in layers:
            cfg = copy.copy(layer.self_attn.config)
            cfg._attn_implementation = "eager"
            layer.self_attn.config = cfg
    states: dict[int, list] = {i: [] for i in range(len(layers))}
    ratios: dict[int, list] = {i: [] for i in range(len(layers))}
    seen: dict = {}
    hooks = [
        layer.register_forward_hook(lambda m, a, o, i=i: seen.__setitem__(("h", i), o))
        for i, layer in enumerate(layers)
    ]
    if attention:
        hooks += [
            layer.self_attn.register_forward_hook(
                lambda m, a, o, i=i: seen.__setitem__(("a", i), o)
            )
            for i, layer in enumerate(layers)
        ]
    for start in range(0, len(items), 16):
        chunk = items[start : start + 16]
        batch = model.builder.prompts([TextSample(q["image"], q["prompt"], "") for q in chunk])
        if not bool(batch.attention_mask[:, -1].all()):
            raise RuntimeError("expected left-padded prompts (the answer position last)")
        with model.autocast():
            bb(batch.pixels, batch.input_ids, batch.attention_mask, batch.image_mask)
        for i in range(len(layers)):
            h = seen[("h", i)]
            states[i].append((h[0] if isinstance(h, tuple) else h)[:, -1].float())  # (B, D)
            if attention:
                a = seen[("a", i)][1][:, :, -1, :n_img].float()  # (B, H, N): to image tokens
                where = torch.tensor(np.stack([q["where"] for q in chunk]), dtype=torch.float32)
                on = (a * where[:, None]).sum(-1)  # (B, H)
                ratios[i].append((on / a.sum(-1).clamp_min(1e-9) * n_img).numpy())
    for hook in hooks:
        hook.remove()
    return (
        {i: torch.cat(v).numpy() for i, v in states.items()},
        {i: np.concatenate(v) for i, v in ratios.items() if v},
    )


def ridge_r2(x: np.ndarray, y: np.ndarray, xt: np.ndarray, yt: np.ndarray) -> np.ndarray:
    """R^2 per output of a ridge probe fit on (x, y), scored on (xt, yt)."""
    mu, sd = x.mean(0), x.std(0) + 1e-6
    x, xt = (x - mu) / sd, (xt - mu) / sd
    w = np.linalg.solve(x.T @ x + 100.0 * np.eye(x.shape[1]), x.T @ (y - y.mean(0)))
    pred = xt @ w + y.mean(0)
    return 1 - ((pred - yt) ** 2).sum(0) / ((yt - yt.mean(0)) ** 2).sum(0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--checkpoint", required=True, help="checkpoint, run directory or rt2:NAME")
    ap.add_argument("--n", type=int, default=128, help="held-out questions")
    ap.add_argument("--n-fit", type=int, default=768, help="training questions for the probe")
    args = ap.parse_args()
    torch.manual_seed(0)
    model = load_model(args.checkpoint).eval()
    grid = PlanFormat(code=saved_config(args.checkpoint).data.plan_code)  # type: ignore[arg-type]
    size = model.backbone.image_size
    held = questions("eval", args.n, 0, grid, size)
    fit = questions("train", args.n_fit, 5, grid, size)
    held_states, ratios = run(model, held, attention=True)
    fit_states, _ = run(model, fit, attention=False)
    y = np.array([q["cell"] for q in fit], float)
    yt = np.array([q["cell"] for q in held], float)
    print(f"{args.checkpoint}: {args.n} held-out pointing questions ({args.n_fit} to fit probes)")
    print("layer | attention on the named thing (1 = uniform): mean / best head | probe R^2 x / y")
    for i in sorted(held_states):
        r2 = ridge_r2(fit_states[i], y, held_states[i], yt)
        r = ratios[i]
        print(f"{i + 1:>5} | {r.mean():.2f} / {r.mean(0).max():.2f} | {r2[0]:.2f} / {r2[1]:.2f}")


if __name__ == "__main__":
    main()
