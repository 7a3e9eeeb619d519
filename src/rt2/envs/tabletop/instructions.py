"""Instruction writing: templates per task family, referring expressions, other languages.

Referring styles: objects by ``name`` ("the red star") or by ``fact`` ("the carbonated drink");
marks by ``name`` ("the 3", "the picture of the cat") or ``math`` ("the sum of two plus one").
English is the training language; French, German and Spanish exist only for emergent tests.
"""

from __future__ import annotations

import numpy as np

from rt2.envs.tabletop.catalogue import CatalogueEntry, number_word

LANGUAGES = ("en", "fr", "de", "es")

#: Absolute locations: name -> (fx, fy) as fractions of the reachable half extents.
LOCATIONS: dict[str, tuple[float, float]] = {
    "top left corner": (-1, 1),
    "top center": (0, 1),
    "top right corner": (1, 1),
    "center left": (-1, 0),
    "center": (0, 0),
    "center right": (1, 0),
    "bottom left corner": (-1, -1),
    "bottom center": (0, -1),
    "bottom right corner": (1, -1),
}
#: Directions for relative moves: word -> unit vector (x right, y up).
DIRECTIONS: dict[str, tuple[float, float]] = {
    "left": (-1, 0),
    "right": (1, 0),
    "up": (0, 1),
    "down": (0, -1),
}
#: Relative block positions: phrase -> unit offset from the reference object.
RELATIONS: dict[str, tuple[float, float]] = {
    "to the left of": (-1, 0),
    "to the right of": (1, 0),
    "above": (0, 1),
    "below": (0, -1),
}

TEMPLATES: dict[str, tuple[str, ...]] = {
    "block_to_block": (
        "push {a} to {b}",
        "move {a} to {b}",
        "slide {a} into {b}",
        "push {a} next to {b}",
    ),
    "block_to_absolute": (
        "push {a} to the {loc}",
        "move {a} to the {loc}",
        "slide {a} to the {loc} of the board",
    ),
    "block_to_relative": ("move {a} {dir}", "push {a} {dir}", "slide {a} a bit {dir}"),
    "separate": ("separate {a} and {b}", "pull {a} away from {b}", "move {a} away from {b}"),
    "block_to_block_relative": (
        "put {a} {rel} {b}",
        "move {a} so it is {rel} {b}",
        "push {a} {rel} {b}",
    ),
    "move_near": ("move {a} near {b}", "push {a} close to {b}", "bring {a} near {b}"),
    "push_onto_mark": (
        "push {a} onto {m}",
        "move {a} onto {m}",
        "slide {a} to {m}",
        "put {a} on {m}",
    ),
}

# ---- other languages (emergent "reasoning" group only) ------------------------------------
_VERB = {"fr": "pousse", "de": "schiebe", "es": "empuja"}
_FR_COL = {
    "red": ("rouge", "rouge"),
    "blue": ("bleu", "bleue"),
    "green": ("vert", "verte"),
    "yellow": ("jaune", "jaune"),
}
_DE_COL = {"red": "roten", "blue": "blauen", "green": "grünen", "yellow": "gelben"}
_ES_COL = {
    "red": ("rojo", "roja"),
    "blue": ("azul", "azul"),
    "green": ("verde", "verde"),
    "yellow": ("amarillo", "amarilla"),
}
# name -> (direct object, "to" phrase) per language
_PHRASES: dict[str, dict[str, tuple[str, str]]] = {"fr": {}, "de": {}, "es": {}}
for _c in _FR_COL:
    _PHRASES["fr"][f"{_c} cube"] = (f"le cube {_FR_COL[_c][0]}", f"vers le cube {_FR_COL[_c][0]}")
    _PHRASES["fr"][f"{_c} star"] = (f"l'étoile {_FR_COL[_c][1]}", f"vers l'étoile {_FR_COL[_c][1]}")
    _PHRASES["de"][f"{_c} cube"] = (f"den {_DE_COL[_c]} Würfel", f"zum {_DE_COL[_c]} Würfel")
    _PHRASES["de"][f"{_c} star"] = (f"den {_DE_COL[_c]} Stern", f"zum {_DE_COL[_c]} Stern")
    _PHRASES["es"][f"{_c} cube"] = (f"el cubo {_ES_COL[_c][0]}", f"hacia el cubo {_ES_COL[_c][0]}")
    _PHRASES["es"][f"{_c} star"] = (
        f"la estrella {_ES_COL[_c][1]}",
        f"hacia la estrella {_ES_COL[_c][1]}",
    )
_PHRASES["fr"].update(
    {
        "apple": ("la pomme", "vers la pomme"),
        "banana": ("la banane", "vers la banane"),
        "cola can": ("la canette de cola", "vers la canette de cola"),
        "water bottle": ("la bouteille d'eau", "vers la bouteille d'eau"),
    }
)
_PHRASES["de"].update(
    {
        "apple": ("den Apfel", "zum Apfel"),
        "banana": ("die Banane", "zur Banane"),
        "cola can": ("die Coladose", "zur Coladose"),
        "water bottle": ("die Wasserflasche", "zur Wasserflasche"),
    }
)
_PHRASES["es"].update(
    {
        "apple": ("la manzana", "hacia la manzana"),
        "banana": ("el plátano", "hacia el plátano"),
        "cola can": ("la lata de cola", "hacia la lata de cola"),
        "water bottle": ("la botella de agua", "hacia la botella de agua"),
    }
)
_LOC_I18N = {
    "fr": {
        "top left corner": "vers le coin supérieur gauche",
        "top right corner": "vers le coin supérieur droit",
        "bottom left corner": "vers le coin inférieur gauche",
        "bottom right corner": "vers le coin inférieur droit",
        "center": "vers le centre",
    },
    "de": {
        "top left corner": "in die obere linke Ecke",
        "top right corner": "in die obere rechte Ecke",
        "bottom left corner": "in die untere linke Ecke",
        "bottom right corner": "in die untere rechte Ecke",
        "center": "in die Mitte",
    },
    "es": {
        "top left corner": "hacia la esquina superior izquierda",
        "top right corner": "hacia la esquina superior derecha",
        "bottom left corner": "hacia la esquina inferior izquierda",
        "bottom right corner": "hacia la esquina inferior derecha",
        "center": "hacia el centro",
    },
}
#: Families that have translations.
TRANSLATED_FAMILIES = ("block_to_block", "block_to_absolute")


def translatable_objects(language: str) -> tuple[str, ...]:
    """Object names that have a translation in ``language``."""
    return tuple(_PHRASES[language])


def translated_locations(language: str) -> tuple[str, ...]:
    return tuple(_LOC_I18N[language])


def refer_object(entry: CatalogueEntry, style: str, rng: np.random.Generator) -> str:
    """English referring expression for a movable object."""
    if style == "name":
        return f"the {entry.name}"
    if style == "fact":
        if not entry.facts:
            raise ValueError(f"{entry.name!r} has no facts to refer to it by")
        return f"the {entry.facts[int(rng.integers(len(entry.facts)))]}"
    raise ValueError(f"unknown object referring style {style!r}; expected 'name' or 'fact'")


def refer_mark(entry: CatalogueEntry, style: str, rng: np.random.Generator) -> str:
    """English referring expression for a printed mark."""
    if style == "math":
        if entry.category != "digit":
            raise ValueError(f"math referring needs a digit mark, got {entry.name!r}")
        return math_expression(int(entry.name), rng)
    if style != "name":
        raise ValueError(f"unknown mark referring style {style!r}; expected 'name' or 'math'")
    if entry.category == "picture":
        return f"the picture of the {entry.name}"
    if entry.category == "digit" and rng.random() < 0.5:
        return f"the number {entry.name}"
    return f"the {entry.name}"


def math_expression(d: int, rng: np.random.Generator) -> str:
    """A phrase whose value is digit ``d``: "the sum of two plus one" for 3."""
    options = []
    for a in range(0, d + 1):
        if a > 0 and d - a > 0:
            options.append(f"the sum of {number_word(a)} plus {number_word(d - a)}")
    for a in range(d + 1, 10):
        options.append(f"the result of {number_word(a)} minus {number_word(a - d)}")
    if d > 0:
        options.append(f"the number after {number_word(d - 1)}")
    if d % 2 == 0 and d > 0:
        options.append(f"twice {number_word(d // 2)}")
    return options[int(rng.integers(len(options)))]


def english(family: str, rng: np.random.Generator, **slots: str) -> str:
    """Fill a random English template of ``family`` with ``slots`` (a, b, loc, dir, rel, m)."""
    if family not in TEMPLATES:
        raise KeyError(f"no instruction templates for family {family!r}; known {sorted(TEMPLATES)}")
    options = TEMPLATES[family]
    return options[int(rng.integers(len(options)))].format(**slots)


def foreign(language: str, family: str, mover: str, target: str) -> str:
    """Instruction in ``language`` for ``mover`` -> ``target`` (object name or location name)."""
    if language not in _PHRASES:
        raise KeyError(f"no translations for language {language!r}; known {sorted(_PHRASES)}")
    obj = _PHRASES[language][mover][0]
    if family == "block_to_block":
        to = _PHRASES[language][target][1]
    elif family == "block_to_absolute":
        to = _LOC_I18N[language][target]
    else:
        raise KeyError(
            f"family {family!r} has no {language} templates; translated: {TRANSLATED_FAMILIES}"
        )
    return f"{_VERB[language]} {obj} {to}"
