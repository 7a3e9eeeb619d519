"""Captions and visual questions about rendered web scenes and close-ups.

Every generator returns a ``(prompt, answer)`` pair in the shared ``"Q: ... A:"`` format and
asks only questions with exactly one right answer in the picture (a colour question names an
object that is unique in the scene, a "which object is a fruit?" scene has exactly one fruit).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import numpy as np

from rt2.data.plan import PlanFormat
from rt2.data.web_scenes import CELLS, WebScene
from rt2.data.web_templates import (
    BACKGROUND_PHRASES,
    ENVIRONMENT_PHRASES,
    NUMBER_WORDS,
    describe,
    is_are,
    join_list,
    noun,
    pick,
    qa,
    with_article,
)
from rt2.envs.tabletop import instructions as ins
from rt2.envs.tabletop.catalogue import CatalogueEntry

QA = tuple[str, str]
_PLURALS = {"fruit": "pieces of fruit", "drink": "drinks", "toy": "toys", "block": "blocks"}
_FLAG_COUNTRY = {"flag of france": "france", "flag of japan": "japan"}


_pick = pick


def _things_phrase(ws: WebScene) -> str:
    parts = [describe(e) for e, _ in ws.reading_order()]
    return f"{parts[0]} next to {parts[1]}" if len(parts) == 2 else join_list(parts)


# ---- captions -------------------------------------------------------------------------------
def caption(ws: WebScene, rng: np.random.Generator) -> QA:
    """Scene caption: "a yellow banana next to a red star on a marble table"."""
    table = BACKGROUND_PHRASES[ws.scene.background][1]
    things = _things_phrase(ws)
    style = int(rng.integers(4))
    if ws.closeup:
        e = ws.things[0][0]
        if style < 2:
            return qa("what is in the image?"), describe(e)
        return qa("describe the image."), f"{e.description} on {table}"
    if style == 0:
        return qa("what is in the image?"), things
    if style == 1:
        return qa("what is on the table?"), things
    if style == 2:
        return qa("describe the image."), f"{things} on {table}"
    room = ENVIRONMENT_PHRASES[ws.scene.environment.name][0]
    return qa("write a caption for this picture."), f"{things} on {table} in {room}"


# ---- visual questions about a scene -------------------------------------------------------
def _unique(items: list[str]) -> set[str]:
    c = Counter(items)
    return {k for k, v in c.items() if v == 1}


def scene_questions(ws: WebScene, rng: np.random.Generator) -> list[QA]:
    """All well-posed questions about ``ws`` (one drawn per item; see :func:`scene_vqa`)."""
    out: list[QA] = []
    objs, marks = ws.objects, ws.marks
    things = [(e, loc) for e, loc in objs if e.category != "block"]
    blocks = [(e, loc) for e, loc in objs if e.category == "block"]
    # where / what is at ("the heart" is ambiguous beside a heart-shaped block)
    block_shapes = {e.shape for e, _ in objs if e.category == "block"}
    for e, loc in ws.things:
        if not (e.kind == "mark" and e.name in block_shapes):
            out.append((qa(f"where is the {noun(e)}?"), loc))
        q = "what is printed at" if e.kind == "mark" else "what is at"
        out.append((qa(f"{q} the {loc}?"), describe(e)))
        if e.category == "digit":
            out.append((qa(f"what number is printed at the {loc}?"), e.name))
    # colours and shapes (blocks by their unique shape or colour)
    for e, _ in things:
        out.append((qa(f"what colour {is_are(e)} the {e.name}?"), e.colour))
    shapes = _unique([e.shape for e, _ in blocks])
    colours = _unique([e.colour for e, _ in blocks])
    for e, _ in blocks:
        if e.shape in shapes:
            out.append((qa(f"what colour is the {e.shape} block?"), e.colour))
        if e.colour in colours:
            out.append((qa(f"what shape is the {e.colour} block?"), e.shape))
    # categories
    cats = Counter(e.category for e, _ in objs)
    for e, _ in objs:
        out.append((qa(f"what kind of thing is the {noun(e)}?"), with_article(e.category)))
        if cats[e.category] == 1:
            out.append((qa(f"which object is {with_article(e.category)}?"), noun(e)))
    for cat in ("fruit", "drink", "toy", "block"):
        yes = "yes" if cats[cat] else "no"
        out.append((qa(f"is there {with_article(cat)} on the table?"), yes))
        out.append((qa(f"how many {_PLURALS[cat]} are on the table?"), str(cats[cat])))
    # facts ("the carbonated drink") that single out one thing
    fact_counts = Counter(f for e, _ in ws.things for f in set(e.facts))
    for e, loc in ws.things:
        for f in e.facts:
            if fact_counts[f] == 1 and f not in ("fruit", "toy", "number", "symbol"):
                out.append((qa(f"which object is the {f}?"), noun(e)))
                out.append((qa(f"where is the {f}?"), loc))
    # counts
    out.append((qa("how many objects are on the table?"), str(len(objs))))
    out.append((qa("how many marks are printed on the table?"), str(len(marks))))
    digits = [(e, loc) for e, loc in marks if e.category == "digit"]
    out.append((qa("how many numbers are printed on the table?"), str(len(digits))))
    # arithmetic grounded on printed digits ("where is the sum of two plus one?")
    for e, loc in digits:
        expr = ins.math_expression(int(e.name), rng)
        out.append((qa(f"where is {expr}?"), loc))
        out.append((qa(f"which number on the table is {expr}?"), e.name))
    # recognition: pictures, flags, logos
    for e, loc in marks:
        if e.category == "picture":
            out.append((qa(f"what is in the picture at the {loc}?"), with_article(e.name)))
        if e.category == "flag":
            out.append((qa(f"which country's flag is at the {loc}?"), _FLAG_COUNTRY[e.name]))
        if e.category == "logo":
            out.append((qa(f"which logo is at the {loc}?"), describe(e)))
    # scenery
    material, _ = BACKGROUND_PHRASES[ws.scene.background]
    room, table = ENVIRONMENT_PHRASES[ws.scene.environment.name]
    out.append((qa("what is the table top like?"), material))
    out.append((qa("what room is this?"), room))
    out.append((qa("what kind of table is this?"), with_article(table)))
    return out


def scene_vqa(ws: WebScene, rng: np.random.Generator) -> QA:
    """One question about a scene, drawn so every question type gets a fair share."""
    qs = scene_questions(ws, rng)
    kinds: dict[str, list[QA]] = {}
    for p, a in qs:
        key = " ".join(p.split()[1:3])  # "where is", "what colour", "how many", ...
        kinds.setdefault(key, []).append((p, a))
    group = kinds[_pick(rng, sorted(kinds))]
    return _pick(rng, group)


# ---- close-ups ------------------------------------------------------------------------------
def closeup_questions(e: CatalogueEntry, ws: WebScene, rng: np.random.Generator) -> list[QA]:
    """Questions about the single object or mark of a close-up."""
    table = BACKGROUND_PHRASES[ws.scene.background][0]
    out: list[QA] = [
        (qa("what is this?"), describe(e)),
        (qa("what colour is this?"), e.colour),
        (qa("what is the table top like?"), table),
    ]
    if e.kind == "object":
        out.append((qa("what kind of thing is this?"), with_article(e.category)))
        for cat in ("fruit", "drink", "toy", "block"):
            out.append((qa(f"is this {with_article(cat)}?"), "yes" if e.category == cat else "no"))
        if e.category == "block":
            out.append((qa("what shape is this block?"), e.shape))
    if e.facts:
        f = _pick(rng, e.facts)
        out.append((qa(f"is this {with_article(f)}?"), "yes"))
        out.append((qa("tell me something about this."), f"it is {with_article(f)}"))
    if e.category == "digit":
        d = int(e.name)
        out.append((qa("what number is this?"), e.name))
        out.append((qa("what number is printed here?"), NUMBER_WORDS[d]))
        expr = ins.math_expression(d, rng)
        out.append((qa(f"is this {expr}?"), "yes"))
    if e.category == "picture":
        out.append((qa("what is in this picture?"), with_article(e.name)))
    if e.category == "flag":
        out.append((qa("which country's flag is this?"), _FLAG_COUNTRY[e.name]))
    if e.category in ("symbol", "logo"):
        out.append((qa(f"which {e.category} is this?"), describe(e)))
    return out


def closeup_vqa(ws: WebScene, rng: np.random.Generator) -> QA:
    e = ws.things[0][0]
    return _pick(rng, closeup_questions(e, ws, rng))


# ---- pointing -------------------------------------------------------------------------------
def pointing(ws: WebScene, rng: np.random.Generator, grid: PlanFormat | None = None) -> QA:
    """ "point to the apple." -> "12 7": a thing's centre on the grid grounded plans use, named by
    its name or by a fact that singles it out ("point to the carbonated drink."); cells written
    in ``grid``'s code (default: digits on 32 x 32)."""
    return _pick(rng, pointing_questions(ws, grid))


def is_pointing(prompt: str) -> bool:
    """True for a question :func:`pointing` asks."""
    return prompt.startswith(qa(_POINT).removesuffix(" A:"))


_POINT = "point to the "


def pointing_questions(ws: WebScene, grid: PlanFormat | None = None) -> list[QA]:
    """Every pointing question :func:`pointing` may ask about ``ws``."""
    grid = grid or PlanFormat()
    located = ws.positions()
    fact_counts = Counter(f for e, _ in located for f in set(e.facts))
    asks = []
    for e, xy in located:
        answer = grid.point(xy)
        asks.append((qa(f"{_POINT}{noun(e)}."), answer))
        for f in e.facts:
            if fact_counts[f] == 1 and f not in ("fruit", "toy", "number", "symbol"):
                asks.append((qa(f"{_POINT}{f}."), answer))
    return asks


def dialogue(
    ws: WebScene, rng: np.random.Generator, turns: int = 6, grid: PlanFormat | None = None
) -> list[QA]:
    """Up to ``turns`` different questions about one scattered scene, about half of them pointing
    (the grounding plans need) and the rest scene questions, in random order: one multi-turn
    sample (:attr:`rt2.samples.TextSample.turns`)."""
    points, others = pointing_questions(ws, grid), scene_questions(ws, rng)
    n_point = min(len(points), max(1, turns // 2))
    chosen = [points[int(i)] for i in rng.choice(len(points), n_point, replace=False)]
    asked = {p for p, _ in chosen}
    for i in rng.permutation(len(others)):
        if len(chosen) == turns:
            break
        if others[int(i)][0] not in asked:
            chosen.append(others[int(i)])
            asked.add(others[int(i)][0])
    return [chosen[int(i)] for i in rng.permutation(len(chosen))]


#: Scene item kinds and their generators.
GENERATORS: dict[str, Callable[[WebScene, np.random.Generator], QA]] = {
    "caption": caption,
    "scene_vqa": scene_vqa,
    "object_vqa": closeup_vqa,
    "pointing": pointing,
}
#: Locations a question may name.
LOCATION_NAMES: tuple[str, ...] = tuple(CELLS.values())
