"""The synthetic "web" corpus: RT-2's WebLI stand-in, generated from the simulator's catalogue.

RT-2 co-fine-tunes on robot demonstrations *and* the VLM's web data, so web knowledge ("a cola
is a carbonated drink", "two plus one is three", "rouge means red") carries over to control.
This corpus supplies that knowledge for every catalogue entry and every concept, including the
ones held out of the robot data, and never contains actions.

Item kinds (mixed by :attr:`WebCorpusConfig.weights`):

- ``caption``: a rendered scene or close-up and its caption;
- ``scene_vqa``: a question about a scene (colour, category, fact, location, count, printed
  digits, arithmetic on printed digits, pictures/flags/logos, table top and room);
- ``object_vqa``: a question about a close-up of one object or mark;
- ``pointing``: "point to the apple." -> "12 7", a thing's grid cell in a scattered scene (the
  grounding that plans need; PaLI-style pointing; off by default);
- ``dialogue``: several questions about one scattered scene in one sample, half of them
  pointing (multi-turn, LLaVA-style: one pass over the image serves every answer; off by
  default);
- ``facts``, ``math``, ``translation``: text-only knowledge (``image=None``).

>>> corpus = WebCorpus(WebCorpusConfig(size=1000, seed=0))
>>> sample = corpus[3]  # TextSample(image, "Q: ... A:", answer), the same every time
"""

from __future__ import annotations

import argparse
import functools
import re
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rt2.data import web_templates as wt
from rt2.data.plan import CODES, PlanFormat
from rt2.data.web_scenes import WebScene, closeup_scene, random_scene, render, scattered_scene
from rt2.data.web_templates import exact_match, normalize, qa
from rt2.data.web_vqa import GENERATORS, dialogue, is_pointing, pointing
from rt2.envs.scenery import BACKGROUNDS, ENVIRONMENTS
from rt2.envs.tabletop import instructions as ins
from rt2.envs.tabletop.catalogue import CatalogueEntry, catalogue, get_object
from rt2.envs.tabletop.render import Renderer
from rt2.envs.tabletop.suites import load_suite
from rt2.samples import TextSample, ground_targets

__all__ = [
    "KINDS",
    "WebCorpus",
    "WebCorpusConfig",
    "concept_coverage",
    "exact_match",
    "held_out_concepts",
    "knowledge_eval_set",
    "normalize",
    "vocabulary_texts",
    "vqa_eval_set",
]

IMAGE_KINDS: tuple[str, ...] = ("caption", "scene_vqa", "object_vqa", "pointing", "dialogue")
TEXT_KINDS: tuple[str, ...] = ("facts", "math", "translation")
KINDS: tuple[str, ...] = IMAGE_KINDS + TEXT_KINDS
SPLITS: dict[str, int] = {"train": 0, "eval": 1}
_TEXT_GEN = {"facts": wt.fact_item, "math": wt.arithmetic, "translation": wt.translation_item}


def _default_weights() -> dict[str, float]:
    return {
        "caption": 0.2,
        "scene_vqa": 0.3,
        "object_vqa": 0.15,
        "facts": 0.15,
        "math": 0.1,
        "translation": 0.1,
        "pointing": 0.0,  # opt in: grounding for plans (data.web_weights)
        "dialogue": 0.0,  # opt in: multi-turn pointing + scene questions (the VLM stage)
    }


@dataclass(frozen=True)
class WebCorpusConfig:
    """Size, seed, image size, split and the item-kind mix of a :class:`WebCorpus`."""

    size: int = 20000
    seed: int = 0
    image_size: int = 128
    split: str = "train"
    weights: dict[str, float] = field(default_factory=_default_weights)
    cache_size: int = 256  # items kept in a small LRU cache (0: none)
    hold_out_knowledge: bool = False  # never generate a knowledge_eval_set() question
    dialogue_turns: int = 6  # questions per ``dialogue`` item
    point_code: str = "digits"  # pointing answers' cells: "12 7" or "M H" (PlanFormat.code)

    def __post_init__(self) -> None:
        if not (isinstance(self.size, int) and self.size > 0):
            raise ValueError(f"WebCorpusConfig.size: expected a positive int, got {self.size!r}")
        if not (isinstance(self.seed, int) and self.seed >= 0):
            raise ValueError(f"WebCorpusConfig.seed: expected an int >= 0, got {self.seed!r}")
        if not (isinstance(self.image_size, int) and 16 <= self.image_size <= 1024):
            raise ValueError(
                f"WebCorpusConfig.image_size: expected an int in 16..1024, got {self.image_size!r}"
            )
        if self.split not in SPLITS:
            raise ValueError(
                f"WebCorpusConfig.split: expected one of {list(SPLITS)}, got {self.split!r}"
            )
        if not isinstance(self.weights, dict) or not self.weights:
            raise ValueError(
                f"WebCorpusConfig.weights: expected a mapping kind -> weight, got {self.weights!r}"
            )
        for k, w in self.weights.items():
            if k not in KINDS:
                raise ValueError(
                    f"WebCorpusConfig.weights: unknown kind {k!r}; known: {list(KINDS)}"
                )
            if not (isinstance(w, int | float) and w >= 0 and np.isfinite(w)):
                raise ValueError(f"WebCorpusConfig.weights[{k!r}]: expected >= 0, got {w!r}")
        if sum(self.weights.values()) <= 0:
            raise ValueError(
                f"WebCorpusConfig.weights: expected a positive total, got {self.weights!r}"
            )
        if not (isinstance(self.dialogue_turns, int) and 1 <= self.dialogue_turns <= 16):
            raise ValueError(
                "WebCorpusConfig.dialogue_turns: expected an int in 1..16, got "
                f"{self.dialogue_turns!r}"
            )
        if self.point_code not in CODES:
            raise ValueError(
                f"WebCorpusConfig.point_code: expected one of {CODES}, got {self.point_code!r}"
            )
        if not (isinstance(self.cache_size, int) and self.cache_size >= 0):
            raise ValueError(
                f"WebCorpusConfig.cache_size: expected an int >= 0, got {self.cache_size!r}"
            )


class WebCorpus:
    """A lazy, deterministic sequence of :class:`TextSample`: item ``i`` is drawn from
    ``np.random.default_rng([seed, split_id, i])``. Train and eval use disjoint streams and
    disjoint texture seeds (even for train, odd for eval), so their pictures never coincide.
    With ``hold_out_knowledge`` its text-only items never ask a :func:`knowledge_eval_set`
    question: for a pretrained LM, whose knowledge retention must be measured on questions no
    training stage has seen (the tiny model's knowledge comes from this corpus, so by default it
    teaches them).
    """

    def __init__(self, config: WebCorpusConfig | None = None) -> None:
        self.config = config or WebCorpusConfig()
        self.split_id = SPLITS[self.config.split]
        names = [k for k in KINDS if self.config.weights.get(k, 0) > 0]
        w = np.array([self.config.weights[k] for k in names], dtype=np.float64)
        self._kinds, self._cdf = names, np.cumsum(w / w.sum())
        self._renderer = Renderer(self.config.image_size)
        self._grid = PlanFormat(code=self.config.point_code)  # type: ignore[arg-type]
        self._cache: OrderedDict[int, TextSample] = OrderedDict()

    def __len__(self) -> int:
        return self.config.size

    def _rng(self, i: int) -> np.random.Generator:
        return np.random.default_rng([self.config.seed, self.split_id, i])

    def _kind(self, rng: np.random.Generator) -> str:
        j = int(np.searchsorted(self._cdf, rng.random(), side="right"))
        return self._kinds[min(j, len(self._kinds) - 1)]

    def kind(self, i: int) -> str:
        """The item kind of item ``i`` (cheap: no rendering)."""
        return self._kind(self._rng(self._index(i)))

    def _index(self, i: int) -> int:
        i = int(i)
        n = self.config.size
        if not -n <= i < n:
            raise IndexError(f"web corpus index {i} out of range for size {n}")
        return i % n

    def __getitem__(self, i: int) -> TextSample:
        i = self._index(i)
        if i in self._cache:
            self._cache.move_to_end(i)
            return self._cache[i]
        sample = self._generate(i)
        if self.config.cache_size:
            self._cache[i] = sample
            if len(self._cache) > self.config.cache_size:
                self._cache.popitem(last=False)
        return sample

    def __iter__(self) -> Iterator[TextSample]:
        return (self[i] for i in range(len(self)))

    def _generate(self, i: int) -> TextSample:
        rng = self._rng(i)
        kind = self._kind(rng)
        if kind in _TEXT_GEN:
            held_out = _knowledge_prompts() if self.config.hold_out_knowledge else frozenset()
            for _ in range(_MAX_REDRAWS):
                prompt, answer = _TEXT_GEN[kind](rng)
                if prompt not in held_out:
                    return TextSample(None, prompt, answer)
            raise RuntimeError(
                f"web corpus item {i} ({kind!r}): {_MAX_REDRAWS} draws all hit held-out "
                "knowledge questions"
            )
        tex = 2 * int(rng.integers(2**30)) + self.split_id
        closeup = kind == "object_vqa" or (kind == "caption" and rng.random() < 0.25)
        if kind in ("pointing", "dialogue"):
            ws = scattered_scene(rng, tex)
        elif closeup:
            ws = closeup_scene(_closeup_entry(rng), rng, tex)
        else:
            ws = random_scene(rng, tex)
        image = render(ws, self._renderer)  # (S, S, 3) uint8
        image.setflags(write=False)
        if kind == "dialogue":
            qas = dialogue(ws, rng, self.config.dialogue_turns, self._grid)
            (prompt, answer), *turns = qas
            return TextSample(image, prompt, answer, tuple(turns), self._where(ws, prompt, answer))
        if kind == "pointing":
            prompt, answer = pointing(ws, rng, self._grid)
            return TextSample(image, prompt, answer, where=self._where(ws, prompt, answer))
        else:
            prompt, answer = GENERATORS[kind](ws, rng)
        return TextSample(image, prompt, answer)

    def _where(self, ws: WebScene, prompt: str, answer: str) -> np.ndarray | None:
        """The grounding targets (K, 4) of a pointing question (None: not one): the thing it
        names as the ``block`` target, at its (u, v) in the picture just drawn (the renderer
        is still framed for ``ws``) and its (x, y) on the table."""
        if not is_pointing(prompt):
            return None
        half = np.array([ws.scene.environment.width, ws.scene.environment.height]) / 2
        xy = next(xy for _, xy in ws.positions() if self._grid.point(xy) == answer)
        u, v = self._renderer.world_to_pixel(xy * half) / self._renderer.size
        return ground_targets(block=(u, v, *xy))


def _closeup_entry(rng: np.random.Generator) -> CatalogueEntry:
    """All entries; everyday things and marks more often than the 64 blocks."""
    cat = catalogue()
    if rng.random() < 0.35:
        pool = [e for e in cat.values() if e.category == "block"]
    else:
        pool = [e for e in cat.values() if e.category != "block"]
    return pool[int(rng.integers(len(pool)))]


# ---- evaluation sets ------------------------------------------------------------------------
_MAX_REDRAWS = 100


@functools.cache
def _knowledge_prompts() -> frozenset[str]:
    return frozenset(prompt for prompt, _ in knowledge_eval_set())


def knowledge_eval_set() -> list[tuple[str, str]]:
    """Fixed text-only (prompt, answer) pairs with one right answer, for knowledge retention."""
    out: list[tuple[str, str]] = []
    cat = catalogue()
    things = [e for e in cat.values() if e.kind == "object" and e.category != "block"]
    for e in things:
        art, be = wt.with_article(e.name), wt.is_are(e)
        out.append((qa(f"what colour {be} {art}?"), e.colour))
        out.append((qa(f"{be} {art} {wt.with_article(e.category)}?"), "yes"))
        other = "drink" if e.category != "drink" else "fruit"
        out.append((qa(f"{be} {art} {wt.with_article(other)}?"), "no"))
        out.append((qa(f"what kind of thing {be} {art}?"), wt.with_article(e.category)))
    for e in things:
        fact = e.facts[0]
        foil = next(o for o in things if fact not in o.facts and o.category != e.category)
        a, b = wt.with_article(e.name), wt.with_article(foil.name)
        out.append((qa(f"which is {wt.with_article(fact)}, {a} or {b}?"), a))
    for d in range(10):
        a = d - d // 2  # 3 -> "two plus one"
        out.append((qa(f"what is {wt.NUMBER_WORDS[a]} plus {wt.NUMBER_WORDS[d - a]}?"), str(d)))
        out.append((qa(f"how do you write {wt.NUMBER_WORDS[d]} as a digit?"), str(d)))
    for pairs in wt.TRANSLATIONS.values():
        for word, english in pairs:
            if english in ("red", "blue", "green", "yellow", "left", "right", "push"):
                out.append((qa(f"what does '{word}' mean in english?"), english))
    for pairs in wt.RECOGNITION.values():
        q, a = pairs[0]
        out.append((qa(q), a))
    return list(dict.fromkeys(out))


def vqa_eval_set(n: int = 200, seed: int = 0, image_size: int = 128) -> list[TextSample]:
    """``n`` visual questions on held-out (eval split) pictures: scenes and close-ups."""
    cfg = WebCorpusConfig(
        size=n,
        seed=seed,
        image_size=image_size,
        split="eval",
        weights={"scene_vqa": 0.7, "object_vqa": 0.3},
        cache_size=0,
    )
    corpus = WebCorpus(cfg)
    return [corpus[i] for i in range(n)]


def vocabulary_texts(n_samples: int = 600) -> list[str]:
    """Texts that together use every word the corpus can emit (e.g. to build a tokenizer):
    all catalogue, scenery, translation and knowledge phrases plus a sample of items."""
    texts = [f"{q} {a}" for q, a in knowledge_eval_set()]
    for e in catalogue().values():
        texts += [e.name, wt.describe(e), e.description, *e.facts, *e.words, e.category]
    texts += [
        " ".join(p) for p in (*wt.BACKGROUND_PHRASES.values(), *wt.ENVIRONMENT_PHRASES.values())
    ]
    texts += [f"{f} {e}" for pairs in wt.TRANSLATIONS.values() for f, e in pairs]
    texts += wt.foreign_sentences() + list(wt.NUMBER_WORDS) + list(wt.LANGUAGE_NAMES.values())
    texts += [f"{q} {a}" for pairs in wt.RECOGNITION.values() for q, a in pairs]
    texts += [str(i) for i in range(len(wt.NUMBER_WORDS))] + [
        "which country's flag",
        "printed here",
        "how many marks",
    ]
    per_kind = max(1, n_samples // len(KINDS))
    for kind in KINDS:  # every kind's question stems
        cfg = WebCorpusConfig(size=per_kind, image_size=32, weights={kind: 1.0}, cache_size=0)
        texts += [f"{s.prompt} {s.answer}" for s in WebCorpus(cfg)]
    return texts


# ---- coverage of catalogue entries and held-out concepts -----------------------------------
def _specs(name: str) -> list:
    return [s for specs in load_suite(name).groups.values() for s in specs]


def held_out_concepts() -> dict[str, set[str]]:
    """Concepts absent from the ``seen`` robot data: objects, marks, backgrounds, environments,
    fact phrases ("carbonated drink"), math words and foreign words (from the suite YAMLs;
    foreign words that are also English object or place words, like "cola", are left out)."""
    seen = _specs("seen")
    seen_objs = {o for s in seen for o in s.all_objects()}
    seen_marks = {m for s in seen for m in s.all_marks()}
    facts = {
        f
        for s in _specs("emergent")
        if s.refer_objects == "fact"
        for o in s.objects
        for f in get_object(o).facts
    }
    english = set().union(*(wt.tokens(n) for n in (*catalogue(), *ins.LOCATIONS)))
    return {
        "objects": {o for s in _specs("unseen_objects") for o in s.all_objects()} - seen_objs,
        "marks": {m for s in _specs("emergent") for m in s.all_marks()} - seen_marks,
        "backgrounds": {
            b
            for n in ("unseen_backgrounds", "unseen_environments")
            for s in _specs(n)
            for b in s.backgrounds
        }
        - {b for s in seen for b in s.backgrounds},
        "environments": {e for s in _specs("unseen_environments") for e in s.environments}
        - {e for s in seen for e in s.environments},
        "facts": facts,
        "math": {"sum", "plus", "minus", "result", "after", "twice"},
        "foreign": set().union(*(wt.tokens(s) for s in wt.foreign_sentences())) - english,
    }


def _mentions(kind: str, name: str) -> list[str]:
    """Phrases whose presence in a text counts as mentioning concept ``name``."""
    if kind == "entries":
        e = get_object(name)
        if e.category == "digit":
            return [f"number {name}", f"digit {name}", f"{name} as a digit"]
        return [name]
    if kind == "backgrounds":
        return list(wt.BACKGROUND_PHRASES[name])
    if kind == "environments":
        return list(wt.ENVIRONMENT_PHRASES[name])
    return [name]


def concept_coverage(samples: Iterable[TextSample]) -> dict[str, tuple[set[str], set[str]]]:
    """Per concept group (catalogue ``entries``, all ``backgrounds``/``environments``, and the
    :func:`held_out_concepts` groups): (covered, missing) in the samples' prompts and answers."""
    text = " | ".join(f"{s.prompt} {s.answer}".lower() for s in samples)
    words = wt.tokens(text)
    groups: dict[str, set[str]] = {
        "entries": set(catalogue()),
        "backgrounds": set(BACKGROUNDS),
        "environments": set(ENVIRONMENTS),
    }
    for k, v in held_out_concepts().items():
        groups[f"held_out_{k}"] = v
    out: dict[str, tuple[set[str], set[str]]] = {}
    for g, names in groups.items():
        kind = g.removeprefix("held_out_")
        if kind in ("objects", "marks"):
            kind = "entries"
        covered = set()
        for name in names:
            if kind in ("math", "foreign"):
                hit = name.lower() in words
            else:
                hit = any(
                    re.search(rf"(?<![\w]){re.escape(p.lower())}(?![\w])", text)
                    for p in _mentions(kind, name)
                )
            if hit:
                covered.add(name)
        out[g] = (covered, set(names) - covered)
    return out


# ---- printout -------------------------------------------------------------------------------
def save_grid(samples: Sequence[TextSample], path: str | Path, cols: int = 4) -> Path:
    """A PNG grid of image samples with their question and answer as titles."""
    import textwrap

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    items = [s for s in samples if s.image is not None]
    if not items:
        raise ValueError("save_grid: no image samples to show")
    rows = (len(items) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.9 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, s in zip(axes.ravel(), items, strict=False):
        ax.imshow(s.image)
        title = textwrap.fill(s.prompt.removeprefix("Q: ").removesuffix(" A:"), 38)
        ax.set_title(f"{title}\n→ {textwrap.fill(s.answer, 38)}", fontsize=8)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m rt2.data.web --n 12``: print sample items, save a PNG grid, report stats."""
    p = argparse.ArgumentParser(prog="python -m rt2.data.web", description=main.__doc__)
    p.add_argument("--n", type=int, default=12, help="items to print")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--split", default="train", choices=list(SPLITS))
    p.add_argument("--image-size", type=int, default=128)
    p.add_argument("--grid", default="web_samples.png", help="PNG grid path ('' for none)")
    p.add_argument("--stats", type=int, default=0, help="also measure coverage on this many items")
    args = p.parse_args(argv)
    cfg = WebCorpusConfig(
        size=max(args.n, args.stats, 1),
        seed=args.seed,
        split=args.split,
        image_size=args.image_size,
        cache_size=0,
    )
    corpus = WebCorpus(cfg)
    items = [corpus[i] for i in range(args.n)]
    for i, s in enumerate(items):
        img = "text" if s.image is None else f"image {s.image.shape[0]}px"
        print(f"[{i:3d}] {corpus.kind(i):11s} ({img}) {s.prompt} {s.answer}")
    if args.grid and any(s.image is not None for s in items):
        print(f"saved {save_grid(items[:16], args.grid)}")
    if args.stats:
        t0 = time.perf_counter()
        sample = [corpus[i] for i in range(args.stats)]
        dt = time.perf_counter() - t0
        print(f"\n{args.stats} items in {dt:.1f} s ({args.stats / dt:.0f} items/s)")
        for g, (cov, miss) in concept_coverage(sample).items():
            extra = f"  missing: {sorted(miss)[:8]}" if miss else ""
            print(f"  {g:24s} {len(cov):4d}/{len(cov) + len(miss):<4d}{extra}")


if __name__ == "__main__":
    main()
