"""The object catalogue: every thing that can appear on the table, with its meaning.

Two kinds of entries:

- ``object``: a movable thing the pusher can push (coloured blocks, fruit, drinks, toys);
- ``mark``: something printed flat on the table (digits, symbols, pictures, flags, plain marks).

Each entry carries the attributes used to write instructions here and captions / facts in the
web corpus later: ``name`` (how instructions refer to it), ``colour``, ``shape``, ``category`` and
``facts`` (short noun phrases such as ``"carbonated drink"`` that identify it by meaning).

>>> get_object("cola can").facts
('carbonated drink', 'soft drink', 'red drink')
>>> sorted(o.name for o in objects(category="fruit"))[:3]
['apple', 'banana', 'grapes']
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Literal

Rgb = tuple[int, int, int]

#: Named colours (RGB, 0-255) used by blocks, instructions and drawings.
COLOURS: dict[str, Rgb] = {
    "red": (205, 40, 40),
    "blue": (40, 80, 205),
    "green": (40, 160, 60),
    "yellow": (235, 205, 40),
    "purple": (130, 60, 170),
    "orange": (240, 130, 30),
    "pink": (240, 120, 180),
    "cyan": (40, 190, 210),
    "white": (240, 240, 240),
    "black": (25, 25, 25),
    "brown": (120, 75, 40),
    "grey": (140, 140, 140),
    "silver": (190, 195, 200),
}

#: Shapes of the coloured blocks.
BLOCK_SHAPES: tuple[str, ...] = (
    "cube",
    "star",
    "moon",
    "pentagon",
    "heart",
    "triangle",
    "hexagon",
    "cylinder",
)
#: Colours the blocks come in.
BLOCK_COLOURS: tuple[str, ...] = (
    "red",
    "blue",
    "green",
    "yellow",
    "purple",
    "orange",
    "pink",
    "cyan",
)

Kind = Literal["object", "mark"]


@dataclass(frozen=True)
class CatalogueEntry:
    """One thing in the world and what it means.

    ``radius`` is the collision radius in metres for objects and the half-size of the printed
    card for marks. ``words`` are the extra words instructions may use for it (e.g. number words).
    """

    name: str
    kind: Kind
    category: str
    colour: str
    shape: str
    radius: float = 0.025
    facts: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    mass: float = 0.1
    description: str = ""
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("CatalogueEntry.name must be non-empty")
        if self.kind not in ("object", "mark"):
            raise ValueError(f"CatalogueEntry.kind: expected 'object' or 'mark', got {self.kind!r}")
        if self.colour not in COLOURS:
            raise ValueError(
                f"CatalogueEntry.colour: unknown colour {self.colour!r} for {self.name!r}"
            )
        if not (0.005 <= self.radius <= 0.08):
            raise ValueError(f"CatalogueEntry.radius: expected 0.005..0.08 m, got {self.radius}")
        if self.mass <= 0:
            raise ValueError(f"CatalogueEntry.mass: expected a positive number, got {self.mass}")

    @property
    def rgb(self) -> Rgb:
        return COLOURS[self.colour]


def _blocks() -> list[CatalogueEntry]:
    out = []
    for colour in BLOCK_COLOURS:
        for shape in BLOCK_SHAPES:
            out.append(
                CatalogueEntry(
                    name=f"{colour} {shape}",
                    kind="object",
                    category="block",
                    colour=colour,
                    shape=shape,
                    facts=(f"{colour} block", f"{shape} shaped block"),
                    description=f"a {colour} toy block shaped like a {shape}",
                )
            )
    return out


def _o(
    name: str,
    category: str,
    colour: str,
    shape: str,
    facts: tuple[str, ...],
    desc: str,
    radius: float = 0.025,
) -> CatalogueEntry:
    return CatalogueEntry(name, "object", category, colour, shape, radius, facts, description=desc)


_THINGS: list[CatalogueEntry] = [
    # fruit
    _o(
        "apple",
        "fruit",
        "red",
        "apple",
        ("red fruit", "healthy snack", "fruit"),
        "a round red apple with a stem and a leaf",
    ),
    _o(
        "banana",
        "fruit",
        "yellow",
        "banana",
        ("yellow fruit", "healthy snack", "fruit", "curved fruit"),
        "a curved yellow banana",
    ),
    _o(
        "lemon",
        "fruit",
        "yellow",
        "lemon",
        ("yellow fruit", "sour fruit", "citrus fruit", "fruit"),
        "an oval yellow lemon",
    ),
    _o(
        "strawberry",
        "fruit",
        "red",
        "strawberry",
        ("red fruit", "berry", "fruit"),
        "a red strawberry with green leaves",
    ),
    _o(
        "orange",
        "fruit",
        "orange",
        "orange",
        ("orange fruit", "citrus fruit", "fruit"),
        "a round orange",
    ),
    _o(
        "grapes", "fruit", "purple", "grapes", ("purple fruit", "fruit"), "a bunch of purple grapes"
    ),
    _o("pear", "fruit", "green", "pear", ("green fruit", "fruit"), "a green pear"),
    # drinks
    _o(
        "cola can",
        "drink",
        "red",
        "can",
        ("carbonated drink", "soft drink", "red drink"),
        "a red can of cola seen from above",
    ),
    _o(
        "water bottle",
        "drink",
        "cyan",
        "bottle",
        ("healthy drink", "still drink", "clear drink"),
        "a clear plastic bottle of water lying down",
    ),
    _o(
        "juice box",
        "drink",
        "orange",
        "juice_box",
        ("fruit juice", "healthy drink", "boxed drink"),
        "a small orange juice box with a straw",
    ),
    _o(
        "milk carton",
        "drink",
        "white",
        "milk_carton",
        ("dairy drink", "white drink"),
        "a white milk carton with a blue stripe",
    ),
    _o(
        "lemonade can",
        "drink",
        "yellow",
        "can",
        ("carbonated drink", "soft drink", "yellow drink"),
        "a yellow can of lemonade",
    ),
    _o(
        "coffee cup",
        "drink",
        "brown",
        "cup",
        ("hot drink", "caffeinated drink"),
        "a cup of black coffee seen from above",
    ),
    # toys
    _o(
        "rubber duck",
        "toy",
        "yellow",
        "duck",
        ("bath toy", "toy", "yellow toy"),
        "a yellow rubber duck with an orange beak",
    ),
    _o("toy car", "toy", "red", "car", ("toy vehicle", "toy"), "a small red toy car"),
    _o("teddy bear", "toy", "brown", "bear", ("soft toy", "toy"), "a brown teddy bear"),
    _o("beach ball", "toy", "blue", "ball", ("ball", "toy"), "a colourful beach ball"),
]


def _m(
    name: str,
    category: str,
    colour: str,
    shape: str,
    words: tuple[str, ...],
    facts: tuple[str, ...],
    desc: str,
) -> CatalogueEntry:
    return CatalogueEntry(
        name, "mark", category, colour, shape, 0.032, facts, words, description=desc
    )


_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

_MARKS: list[CatalogueEntry] = [
    # plain marks (the seen marks of the training data)
    _m(
        "black cross",
        "plain mark",
        "black",
        "cross",
        (),
        ("cross",),
        "a black cross printed on the table",
    ),
    _m(
        "green ring",
        "plain mark",
        "green",
        "ring",
        (),
        ("ring",),
        "a green ring printed on the table",
    ),
    _m(
        "red target",
        "plain mark",
        "red",
        "target",
        (),
        ("target",),
        "a red and white bullseye printed on the table",
    ),
    _m("blue dot", "plain mark", "blue", "dot", (), ("dot",), "a blue dot printed on the table"),
    _m(
        "orange square",
        "plain mark",
        "orange",
        "square",
        (),
        ("square",),
        "an orange square outline printed on the table",
    ),
    # digits
    *[
        _m(
            str(d),
            "digit",
            "black",
            f"digit_{d}",
            (str(d), _NUMBER_WORDS[d], "number"),
            (f"number {_NUMBER_WORDS[d]}", "number"),
            f"the digit {d} printed on a card",
        )
        for d in range(10)
    ],
    # symbols
    _m(
        "heart",
        "symbol",
        "red",
        "heart_symbol",
        ("heart",),
        ("love symbol", "symbol"),
        "a red heart symbol",
    ),
    _m(
        "plus sign",
        "symbol",
        "black",
        "plus",
        ("plus", "sign"),
        ("addition symbol", "symbol"),
        "a plus sign",
    ),
    _m(
        "arrow",
        "symbol",
        "blue",
        "arrow",
        ("arrow",),
        ("direction symbol", "symbol"),
        "an arrow pointing right",
    ),
    _m(
        "question mark",
        "symbol",
        "black",
        "question",
        ("question", "mark"),
        ("punctuation symbol", "symbol"),
        "a question mark",
    ),
    _m(
        "dollar sign",
        "symbol",
        "green",
        "dollar",
        ("dollar", "sign"),
        ("money symbol", "symbol"),
        "a dollar sign",
    ),
    # pictures
    _m(
        "cat",
        "picture",
        "orange",
        "cat",
        ("picture", "cat"),
        ("animal", "pet", "cat picture"),
        "a picture of a cat",
    ),
    _m(
        "dog",
        "picture",
        "brown",
        "dog",
        ("picture", "dog"),
        ("animal", "pet", "dog picture"),
        "a picture of a dog",
    ),
    _m(
        "fish",
        "picture",
        "blue",
        "fish",
        ("picture", "fish"),
        ("animal", "fish picture"),
        "a picture of a fish",
    ),
    _m(
        "house",
        "picture",
        "red",
        "house",
        ("picture", "house"),
        ("building", "house picture"),
        "a picture of a house",
    ),
    _m(
        "tree",
        "picture",
        "green",
        "tree",
        ("picture", "tree"),
        ("plant", "tree picture"),
        "a picture of a tree",
    ),
    _m(
        "sun",
        "picture",
        "yellow",
        "sun",
        ("picture", "sun"),
        ("sky", "sun picture"),
        "a picture of the sun",
    ),
    # flags and logos
    _m(
        "flag of france",
        "flag",
        "blue",
        "flag_france",
        ("flag", "france", "french"),
        ("flag", "french flag"),
        "the flag of France",
    ),
    _m(
        "flag of japan",
        "flag",
        "red",
        "flag_japan",
        ("flag", "japan", "japanese"),
        ("flag", "japanese flag"),
        "the flag of Japan",
    ),
    _m(
        "recycling logo",
        "logo",
        "green",
        "recycle",
        ("recycling", "logo"),
        ("logo", "recycling symbol"),
        "the green recycling logo",
    ),
    _m(
        "smiley face",
        "logo",
        "yellow",
        "smiley",
        ("smiley", "face"),
        ("logo", "happy face"),
        "a yellow smiley face",
    ),
]

_ALL: dict[str, CatalogueEntry] = {e.name: e for e in (*_blocks(), *_THINGS, *_MARKS)}


def catalogue() -> dict[str, CatalogueEntry]:
    """All entries by name (a copy; safe to mutate)."""
    return dict(_ALL)


def get_object(name: str) -> CatalogueEntry:
    """The entry called ``name``; unknown names raise ``KeyError`` with the closest match."""
    try:
        return _ALL[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(_ALL), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise KeyError(f"unknown catalogue entry {name!r}{hint}") from None


def objects(kind: Kind | None = None, category: str | None = None) -> list[CatalogueEntry]:
    """Entries filtered by ``kind`` ('object' or 'mark') and/or ``category``."""
    return [
        e
        for e in _ALL.values()
        if (kind is None or e.kind == kind) and (category is None or e.category == category)
    ]


def number_word(d: int) -> str:
    """English word for a digit 0-9."""
    return _NUMBER_WORDS[d]
