"""Words and phrases of the synthetic web corpus: noun phrases, scenery, translations, knowledge.

Everything here is plain text derived from the envs' catalogue, scenery and instruction writer,
so the corpus talks about exactly the things the robot may meet (and the ones it never meets).
All prompts share one format, ``"Q: {question} A:"``, like the robot prompts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TypeVar

import numpy as np

from rt2.envs.tabletop import instructions as ins
from rt2.envs.tabletop.catalogue import CatalogueEntry, catalogue, objects

#: English number words 0..20 (the normaliser maps them to digits).
NUMBER_WORDS: tuple[str, ...] = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
)
_PLURAL = {"grapes"}
_VOWELS = tuple("aeiou")

#: Table tops: name -> (material, as in "the table top is {material}"; caption phrase).
BACKGROUND_PHRASES: dict[str, tuple[str, str]] = {
    "wood_light": ("light wood", "a light wooden table"),
    "plain_grey": ("plain grey", "a plain grey table"),
    "plain_white": ("plain white", "a plain white table"),
    "felt_green": ("green felt", "a green felt table"),
    "wood_dark": ("dark wood", "a dark wooden table"),
    "marble": ("marble", "a marble table"),
    "cloth_blue": ("blue cloth", "a table with a blue cloth"),
    "gingham_red": ("red gingham", "a table with a red gingham tablecloth"),
    "tablecloth_pattern": ("patterned tablecloth", "a table with a patterned tablecloth"),
    "stripes_black": ("black and white stripes", "a black and white striped table"),
    "plain_beige": ("plain beige", "a plain beige table"),
    "cork": ("cork", "a cork table"),
}
#: Rooms: name -> (room, as in "this table is in {room}"; kind of table).
ENVIRONMENT_PHRASES: dict[str, tuple[str, str]] = {
    "lab_standard": ("a robot lab", "lab table"),
    "lab_compact": ("a small robot lab", "small lab table"),
    "kitchen_counter": ("a kitchen", "kitchen counter"),
    "office_desk": ("an office", "office desk"),
    "workshop_bench": ("a workshop", "workbench"),
    "living_room": ("a living room", "coffee table"),
    "bathroom_shelf": ("a bathroom", "bathroom shelf"),
}
LANGUAGE_NAMES: dict[str, str] = {"fr": "french", "de": "german", "es": "spanish"}

#: Word and phrase translations (foreign, English) of every word the foreign instructions use.
TRANSLATIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "fr": (
        ("pousse", "push"),
        ("vers", "towards"),
        ("rouge", "red"),
        ("bleu", "blue"),
        ("bleue", "blue"),
        ("vert", "green"),
        ("verte", "green"),
        ("jaune", "yellow"),
        ("le cube", "the cube"),
        ("l'étoile", "the star"),
        ("la pomme", "the apple"),
        ("la banane", "the banana"),
        ("la canette de cola", "the cola can"),
        ("la bouteille d'eau", "the water bottle"),
        ("le coin", "the corner"),
        ("supérieur", "top"),
        ("inférieur", "bottom"),
        ("gauche", "left"),
        ("droit", "right"),
        ("le centre", "the center"),
    ),
    "de": (
        ("schiebe", "push"),
        ("zum", "to the"),
        ("zur", "to the"),
        ("in die", "into the"),
        ("roten", "red"),
        ("blauen", "blue"),
        ("grünen", "green"),
        ("gelben", "yellow"),
        ("den Würfel", "the cube"),
        ("den Stern", "the star"),
        ("den Apfel", "the apple"),
        ("die Banane", "the banana"),
        ("die Coladose", "the cola can"),
        ("die Wasserflasche", "the water bottle"),
        ("die Ecke", "the corner"),
        ("obere", "top"),
        ("untere", "bottom"),
        ("linke", "left"),
        ("rechte", "right"),
        ("die Mitte", "the center"),
    ),
    "es": (
        ("empuja", "push"),
        ("hacia", "towards"),
        ("rojo", "red"),
        ("roja", "red"),
        ("azul", "blue"),
        ("verde", "green"),
        ("amarillo", "yellow"),
        ("amarilla", "yellow"),
        ("el cubo", "the cube"),
        ("la estrella", "the star"),
        ("la manzana", "the apple"),
        ("el plátano", "the banana"),
        ("la lata de cola", "the cola can"),
        ("la botella de agua", "the water bottle"),
        ("la esquina", "the corner"),
        ("superior", "top"),
        ("inferior", "bottom"),
        ("izquierda", "left"),
        ("derecha", "right"),
        ("el centro", "the center"),
    ),
}

#: Extra world knowledge about pictures, flags, logos and symbols (question, answer).
RECOGNITION: dict[str, tuple[tuple[str, str], ...]] = {
    "cat": (("what animal says meow?", "a cat"), ("is a cat a pet?", "yes")),
    "dog": (("what animal barks?", "a dog"), ("is a dog a pet?", "yes")),
    "fish": (("what animal lives in water and has fins?", "a fish"), ("can a fish swim?", "yes")),
    "house": (("where do people live?", "in a house"), ("is a house a building?", "yes")),
    "tree": (("what plant has a trunk and leaves?", "a tree"), ("is a tree a plant?", "yes")),
    "sun": (("what shines in the sky during the day?", "the sun"), ("is the sun hot?", "yes")),
    "flag of france": (
        ("which country has a blue, white and red flag?", "france"),
        ("what colours are on the flag of france?", "blue, white and red"),
        ("which flag has three vertical stripes of blue, white and red?", "the flag of france"),
    ),
    "flag of japan": (
        ("which country has a white flag with a red circle?", "japan"),
        ("what colours are on the flag of japan?", "red and white"),
        ("which flag has a red circle on white?", "the flag of japan"),
    ),
    "recycling logo": (
        ("which logo is made of three green arrows in a triangle?", "the recycling logo"),
        ("what does the recycling logo mean?", "recycle it"),
    ),
    "smiley face": (
        ("which logo is a yellow circle with a smile?", "a smiley face"),
        ("is a smiley face happy or sad?", "happy"),
    ),
    "heart": (("which symbol means love?", "a heart"),),
    "plus sign": (("which symbol means add?", "a plus sign"),),
    "arrow": (("which symbol shows a direction?", "an arrow"),),
    "question mark": (("which symbol ends a question?", "a question mark"),),
    "dollar sign": (("which symbol means money?", "a dollar sign"),),
}


def qa(question: str) -> str:
    """The shared prompt format: ``"Q: {question} A:"``."""
    return f"Q: {question} A:"


def with_article(phrase: str) -> str:
    """``"apple"`` -> ``"an apple"``; plurals and phrases starting with 'the' are kept."""
    if phrase.startswith(("the ", "a ", "an ", "some ")) or phrase in _PLURAL:
        return phrase
    return ("an " if phrase.startswith(_VOWELS) else "a ") + phrase


def noun(entry: CatalogueEntry) -> str:
    """Short name used in questions and answers: ``"banana"``, ``"red star"``, ``"number 3"``."""
    if entry.category == "digit":
        return f"number {entry.name}"
    if entry.category == "picture":
        return f"picture of the {entry.name}"
    return entry.name


def describe(entry: CatalogueEntry) -> str:
    """Caption phrase with article and colour: ``"a yellow banana"``, ``"the number 3"``."""
    if entry.kind == "mark":
        if entry.category == "digit":
            return f"the number {entry.name}"
        if entry.category == "picture":
            return f"a picture of a {entry.name}"
        if entry.category == "flag":
            return f"the {entry.name}"
        if entry.name == "recycling logo":
            return "the recycling logo"
        return with_article(entry.name)
    if entry.category == "block" or entry.colour in entry.name.split():
        return with_article(entry.name)
    if entry.name == entry.colour:  # "an orange"
        return with_article(entry.name)
    if entry.name in _PLURAL:
        return f"{entry.colour} {entry.name}"
    return with_article(f"{entry.colour} {entry.name}")


def is_are(entry: CatalogueEntry) -> str:
    return "are" if entry.name in _PLURAL else "is"


def join_list(items: list[str]) -> str:
    """``["a", "b", "c"]`` -> ``"a, b and c"``."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def tokens(text: str) -> set[str]:
    """Lower-case word set of ``text`` (apostrophes split words, as in the envs' split tests)."""
    return {w.strip(".,?!:;'\"()") for w in text.lower().replace("'", " ").split()} - {""}


_NORM_RE = re.compile(r"[^\w\s]")


def normalize(text: str) -> str:
    """Lower-case, no punctuation or articles, number words -> digits, single spaces."""
    words = _NORM_RE.sub(" ", text.lower()).split()
    out = []
    for w in words:
        if w in ("a", "an", "the"):
            continue
        out.append(str(NUMBER_WORDS.index(w)) if w in NUMBER_WORDS else w)
    return " ".join(out)


def exact_match(pred: str, answer: str) -> bool:
    """Normalised exact match: ``exact_match("Three.", "3")`` and ``("the Banana", "banana")``."""
    return normalize(pred) == normalize(answer)


# ---- text-only knowledge ------------------------------------------------------------------
T = TypeVar("T")


def pick(rng: np.random.Generator, seq: Sequence[T]) -> T:
    """One element of ``seq`` drawn uniformly by ``rng``."""
    return seq[int(rng.integers(len(seq)))]


_pick = pick


def _things() -> list[CatalogueEntry]:
    return [e for e in objects(kind="object") if e.category != "block"]


def subject(entry: CatalogueEntry) -> str:
    """How a fact sentence names ``entry``: "a lemon", "the number 3", "a cat", "the sun"."""
    if entry.category == "digit":
        return f"the number {entry.name}"
    if entry.category == "picture":
        return "the sun" if entry.name == "sun" else with_article(entry.name)
    if entry.category == "flag":
        return f"the {entry.name}"
    return with_article(entry.name)


def _facts(entry: CatalogueEntry) -> tuple[str, ...]:
    """Facts that read well in "X is a {fact}" sentences."""
    bad = ("sky",) if entry.category == "picture" else ()
    return tuple(
        f
        for f in entry.facts
        if f not in bad and not f.endswith(" picture") and not f.startswith("number ")
    )


def fact_pairs(entry: CatalogueEntry, rng: np.random.Generator) -> list[tuple[str, str]]:
    """Text-only (question, answer) pairs about one catalogue entry."""
    cat = catalogue()
    art, be = subject(entry), is_are(entry)
    out: list[tuple[str, str]] = [(f"what colour {be} {art}?", entry.colour)]
    if entry.description:
        out.append((f"describe {describe(entry)}.", entry.description))
    if entry.kind == "object":
        out.append((f"what kind of thing {be} {art}?", with_article(entry.category)))
        out.append((f"{be} {art} {with_article(entry.category)}?", "yes"))
        other_cat = _pick(rng, sorted({e.category for e in cat.values() if e.kind == "object"}))
        if other_cat != entry.category:
            out.append((f"{be} {art} {with_article(other_cat)}?", "no"))
    if entry.category == "block":
        out.append((f"what shape is the {entry.name}?", entry.shape))
    facts = _facts(entry)
    if facts:
        fact = _pick(rng, facts)
        out.append((f"what do you know about {art}?", f"{art} {be} {with_article(fact)}"))
        out.append((f"{be} {art} {with_article(fact)}?", "yes"))
        out.append((f"what is {with_article(fact)}? give an example.", art))
        others = [e for e in cat.values() if e.kind == entry.kind and fact not in e.facts]
        if others:
            o = _pick(rng, others)
            a, b = art, subject(o)
            pair = f"{a} or {b}" if rng.random() < 0.5 else f"{b} or {a}"
            out.append((f"which is {with_article(fact)}, {pair}?", art))
            out.append((f"{is_are(o)} {b} {with_article(fact)}?", "no"))
    if entry.category == "digit":
        d = int(entry.name)
        out.append((f"how do you write {NUMBER_WORDS[d]} as a digit?", entry.name))
        out.append((f"what is the word for the digit {entry.name}?", NUMBER_WORDS[d]))
    out.extend(RECOGNITION.get(entry.name, ()))
    return out


def fact_item(rng: np.random.Generator) -> tuple[str, str]:
    """A random text-only fact about a random catalogue entry (things and marks favoured)."""
    cat = catalogue()
    pool = list(cat.values()) if rng.random() < 0.4 else [*_things(), *objects(kind="mark")]
    pairs = fact_pairs(_pick(rng, pool), rng)
    q, a = _pick(rng, pairs)
    return qa(q), a


def arithmetic(rng: np.random.Generator) -> tuple[str, str]:
    """A sum/difference/successor/double question, in the phrasing of the emergent math tasks."""
    d = int(rng.integers(10))
    style = int(rng.integers(5))
    if style == 0:  # the envs' own phrase: "the sum of two plus one"
        return qa(f"what is {ins.math_expression(d, rng)}?"), _pick(rng, (NUMBER_WORDS[d], str(d)))
    if style == 1:
        a = int(rng.integers(d + 1))
        return qa(f"what is {NUMBER_WORDS[a]} plus {NUMBER_WORDS[d - a]}?"), NUMBER_WORDS[d]
    if style == 2:
        a = int(rng.integers(d, 10))
        return qa(f"what is {NUMBER_WORDS[a]} minus {NUMBER_WORDS[a - d]}?"), NUMBER_WORDS[d]
    if style == 3:
        a, b = int(rng.integers(11)), int(rng.integers(11))
        op = "+" if rng.random() < 0.6 else "-"
        if op == "-" and b > a:
            a, b = b, a
        return qa(f"what is {a} {op} {b}?"), str(a + b if op == "+" else a - b)
    if d == 0:
        d = 1
    return qa(f"which number comes after {NUMBER_WORDS[d - 1]}?"), str(d)


def translation_item(rng: np.random.Generator) -> tuple[str, str]:
    """A word, phrase or sentence translation between English and French/German/Spanish."""
    lang = _pick(rng, tuple(LANGUAGE_NAMES))
    lname = LANGUAGE_NAMES[lang]
    if rng.random() < 0.3:  # a whole sentence, written by the envs' own instruction writer
        mover = _pick(rng, ins.translatable_objects(lang))
        if rng.random() < 0.5:
            target = _pick(rng, [o for o in ins.translatable_objects(lang) if o != mover])
            fam = "block_to_block"
        else:
            target, fam = _pick(rng, ins.translated_locations(lang)), "block_to_absolute"
        foreign = ins.foreign(lang, fam, mover, target)
        english = f"push the {mover} to the {target}"
        if rng.random() < 0.7:
            return qa(f"translate from {lname} to english: {foreign}"), english
        return qa(f"translate from english to {lname}: {english}"), foreign
    word, english = _pick(rng, TRANSLATIONS[lang])
    if rng.random() < 0.6:
        return qa(f"what does '{word}' mean in english?"), english
    return qa(f"how do you say '{english}' in {lname}?"), word


def foreign_sentences() -> list[str]:
    """Every foreign instruction the emergent multilingual tasks can produce."""
    out = []
    for lang in LANGUAGE_NAMES:
        objs = ins.translatable_objects(lang)
        for m in objs:
            out += [ins.foreign(lang, "block_to_block", m, t) for t in objs if t != m]
            out += [
                ins.foreign(lang, "block_to_absolute", m, t) for t in ins.translated_locations(lang)
            ]
    return out
