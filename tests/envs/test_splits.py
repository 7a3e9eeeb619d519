"""Held-out things never appear in the ``seen`` training distribution.

Checked twice: on the YAML specs, and on many sampled ``seen`` episodes (objects and marks in the
scene, backgrounds, environments, languages, referring styles and instruction words).
"""

from __future__ import annotations

import numpy as np
import pytest

from rt2.envs import COLOURS, get_object, load_suite
from rt2.envs.tabletop.suites import SuiteSampler

STOP = {"of", "the", "a"}


def _tokens(text: str) -> set[str]:
    return {w.strip(".,?!'").lower() for w in text.replace("'", " ").split()} - {""}


@pytest.fixture(scope="module")
def seen_samples() -> list:
    sampler = SuiteSampler(load_suite("seen"))
    rng = np.random.default_rng(0)
    return [sampler.sample(rng) for _ in range(2500)]


def _specs(name: str) -> list:
    return [s for specs in load_suite(name).groups.values() for s in specs]


def _seen_pools() -> dict[str, set[str]]:
    specs = _specs("seen")
    return {
        "objects": {o for s in specs for o in s.all_objects()},
        "marks": {m for s in specs for m in s.all_marks()},
        "backgrounds": {b for s in specs for b in s.backgrounds},
        "environments": {e for s in specs for e in s.environments},
    }


def test_yaml_specs_hold_out_their_concepts() -> None:
    seen = _seen_pools()
    for s in _specs("unseen_objects"):
        assert not set(s.objects) & seen["objects"], s.where
    hard = load_suite("unseen_objects").groups["hard"][0]
    assert not set(hard.all_objects()) & seen["objects"]
    for s in _specs("unseen_backgrounds"):
        assert not set(s.backgrounds) & seen["backgrounds"], s.where
    for s in _specs("unseen_environments"):
        assert not set(s.environments) & seen["environments"], s.where
    for s in _specs("emergent"):
        novel = (
            (set(s.marks) - seen["marks"]) or set(s.languages) - {"en"} or s.refer_objects == "fact"
        )
        assert novel, f"{s.where} tests no emergent concept"
        if s.refer_objects == "name" and s.languages == ("en",):
            assert not set(s.marks) & seen["marks"], s.where
    for s in _specs("seen"):
        assert s.languages == ("en",) and s.refer_objects == "name" and s.refer_marks == "name"


def _held_out() -> dict[str, set[str]]:
    seen = _seen_pools()
    objs = {o for s in _specs("unseen_objects") for o in s.objects}
    marks = {m for s in _specs("emergent") for m in s.all_marks()} - seen["marks"]
    seen_name_tokens = set().union(*(_tokens(o) for o in seen["objects"]))
    words = set()
    for o in objs:
        words |= _tokens(o) - seen_name_tokens - set(COLOURS)
    for m in marks:
        e = get_object(m)
        words |= (set(e.words) | _tokens(e.name)) - STOP
    for s in _specs("emergent"):
        if s.refer_objects == "fact":
            for o in s.objects:
                for fact in get_object(o).facts:
                    words |= _tokens(fact) - set(COLOURS) - seen_name_tokens
    # math words and foreign words from sampled emergent instructions
    sampler = SuiteSampler(load_suite("emergent"))
    rng = np.random.default_rng(1)
    for _ in range(400):
        _, task, _ = sampler.sample(rng, group="reasoning")
        if task.concept == "math":
            words |= _tokens(task.instruction) & {
                "sum",
                "plus",
                "minus",
                "result",
                "after",
                "twice",
                "number",
            }
        if task.language != "en":
            words |= _tokens(task.instruction) - seen_name_tokens
    return {
        "objects": objs,
        "marks": marks,
        "backgrounds": {
            b
            for n in ("unseen_backgrounds", "unseen_environments")
            for s in _specs(n)
            for b in s.backgrounds
        }
        - seen["backgrounds"],
        "environments": {e for s in _specs("unseen_environments") for e in s.environments},
        "words": words,
    }


def test_held_out_sets_are_substantial() -> None:
    held = _held_out()
    assert len(held["objects"]) >= 20 and len(held["marks"]) >= 25
    assert len(held["backgrounds"]) >= 8 and len(held["environments"]) >= 5
    for w in (
        "three",
        "sum",
        "fruit",
        "carbonated",
        "picture",
        "cat",
        "pousse",
        "schiebe",
        "empuja",
        "heart",
    ):
        assert w in held["words"], w


def test_sampled_seen_episodes_contain_nothing_held_out(seen_samples: list) -> None:
    held = _held_out()
    vocab: set[str] = set()
    for scene, task, group in seen_samples:
        assert group == "seen"
        assert not set(scene.object_names) & held["objects"], scene.object_names
        assert not set(scene.mark_names) & held["marks"], scene.mark_names
        assert scene.background not in held["backgrounds"]
        assert scene.environment.name not in held["environments"]
        assert task.language == "en" and task.concept == ""
        vocab |= _tokens(task.instruction)
    leaked = vocab & held["words"]
    assert not leaked, f"held-out words in seen instructions: {sorted(leaked)}"
    assert len(vocab) > 40  # the check is not vacuous


def test_the_check_can_fail() -> None:
    """Emergent episodes do use held-out words, so the vocabulary test has teeth."""
    held = _held_out()
    sampler = SuiteSampler(load_suite("emergent"))
    rng = np.random.default_rng(2)
    vocab = set().union(*(_tokens(sampler.sample(rng)[1].instruction) for _ in range(100)))
    assert vocab & held["words"]
