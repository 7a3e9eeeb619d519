"""The catalogue: every entry is valid, drawable and has meaning."""

from __future__ import annotations

import numpy as np
import pytest

from rt2.envs import catalogue, get_object, objects
from rt2.envs.scenery import (
    BACKGROUNDS,
    ENVIRONMENTS,
    Environment,
    floor_texture,
    get_environment,
    table_texture,
)
from rt2.envs.tabletop.drawing import draw_mark, object_layers


def test_catalogue_has_the_required_kinds() -> None:
    cats = {e.category for e in catalogue().values()}
    assert {"block", "fruit", "drink", "toy", "digit", "symbol", "picture", "flag", "logo"} <= cats
    shapes = {e.shape for e in objects(category="block")}
    assert {"cube", "star", "moon", "heart", "pentagon"} <= shapes
    assert {e.name for e in objects(category="digit")} == {str(d) for d in range(10)}
    assert "carbonated drink" in get_object("cola can").facts
    assert "yellow fruit" in get_object("banana").facts


def test_unknown_names_suggest() -> None:
    with pytest.raises(KeyError, match="did you mean 'banana'"):
        get_object("bananna")


@pytest.mark.parametrize("name", sorted(catalogue()))
def test_every_entry_draws(name: str) -> None:
    e = get_object(name)
    img = np.zeros((64, 64, 3), np.uint8)
    if e.kind == "object":
        layers = object_layers(e)
        assert layers and all(p.ndim == 2 and p.shape[1] == 2 and len(p) >= 3 for p, _ in layers)
        assert max(np.abs(p).max() for p, _ in layers) < 2.5 * e.radius
    else:
        draw_mark(img, e, (32.0, 32.0), 20.0)
        assert img.any()
    assert e.description


def test_things_have_facts() -> None:
    for e in catalogue().values():
        if e.category in ("fruit", "drink", "toy"):
            assert e.facts, e.name


@pytest.mark.parametrize("name", sorted(BACKGROUNDS))
def test_backgrounds_are_textured(name: str) -> None:
    t = table_texture(name, 0, 40, 60)
    assert t.shape == (40, 60, 3) and t.dtype == np.uint8
    assert np.array_equal(t, table_texture(name, 0, 40, 60))


def test_environments_valid() -> None:
    assert len(ENVIRONMENTS) >= 6
    floors = set()
    for name, env in ENVIRONMENTS.items():
        assert env.name == name and get_environment(name) is env
        assert 0.3 <= env.width <= 1.2 and 0.25 <= env.height <= env.width, name
        floor = floor_texture(env.floor, 0, 24, 36)
        assert floor.shape == (24, 36, 3) and floor.dtype == np.uint8, name
        assert np.array_equal(floor, floor_texture(env.floor, 0, 24, 36))
        floors.add(env.floor)
    assert len(floors) >= 6  # rooms look different, not only differently sized
    with pytest.raises(KeyError, match="did you mean 'lab_standard'"):
        get_environment("lab_standart")
    with pytest.raises(ValueError, match="width"):
        Environment("too_big", width=2.0)
    with pytest.raises(ValueError, match="unknown floor"):
        Environment("odd", floor="lava")
