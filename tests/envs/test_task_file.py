"""User task files: loading, validation errors naming field and value, running in the env."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from rt2.envs import SpecError, TabletopEnv, TabletopExpert, load_task_file
from rt2.envs.tabletop.task_file import parse_task_file

EXAMPLE = Path(__file__).parents[2] / "src/rt2/envs/tabletop/examples/example_tasks.yaml"


def _task(**over: object) -> dict:
    t = {
        "objects": ["apple", "red cube"],
        "marks": ["cat"],
        "instructions": ["push the {mover} to the {target}"],
        "success": {"type": "near", "target": "cat", "radius": 0.05},
    }
    t.update(over)
    return t


def test_example_file_loads() -> None:
    tf = load_task_file(EXAMPLE)
    assert [t.id for t in tf.tasks] == ["apple_to_cat", "duck_left_of_can", "banana_to_corner"]


@pytest.mark.parametrize(
    ("tasks", "message"),
    [
        (
            [_task(), _task(), _task(success={"type": "near", "target": "cat", "radius": -3})],
            "tasks[2].success.radius: expected a positive number, got -3",
        ),
        (
            [_task(objects=["apple", "bananna"])],
            "tasks[0].objects[1]: unknown catalogue entry 'bananna'; did you mean 'banana'?",
        ),
        (
            [_task(objects=["apple", "cat"])],
            "tasks[0].objects[1]: 'cat' is a mark, expected kind 'object'",
        ),
        (
            [_task(success={"type": "close", "target": "cat"})],
            "tasks[0].success.type: expected 'near' or 'far', got 'close'",
        ),
        ([_task(success={"target": "dog"})], "tasks[0].success.target: 'dog' is not one of"),
        ([_task(mover="pear")], "tasks[0].mover: 'pear' is not one of objects"),
        ([_task(layout={"apple": {"x": [0.1, 0.9]}})], "tasks[0].layout.apple.x: expected"),
        ([_task(instructions=["push {thing}"])], "tasks[0].instructions[0]: bad placeholder"),
        ([_task(background="lava")], "tasks[0].background: unknown background 'lava'"),
        ([_task(colour="red")], "tasks[0].colour: unknown field"),
        (
            [{"objects": ["apple"], "success": {"target": [0, 0]}}],
            "tasks[0].instructions: required field is missing",
        ),
        (
            [_task(success={"target": [2.0, 0.0]})],
            "tasks[0].success.target: point [2.0, 0.0] is off the",
        ),
        ([_task(id="a"), _task(id="a")], "tasks[1].id: duplicate id 'a'"),
    ],
)
def test_validation_errors_name_field_and_value(tasks: list, message: str) -> None:
    with pytest.raises(SpecError) as err:
        parse_task_file({"tasks": tasks})
    assert message in str(err.value)


def test_empty_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="tasks: expected a non-empty list"):
        parse_task_file({"tasks": []})
    bad = tmp_path / "bad.yaml"
    bad.write_text("tasks: [unclosed")
    with pytest.raises(SpecError, match="cannot parse"):
        load_task_file(bad)


def test_json_file_runs_in_env_and_expert_solves_it(tmp_path: Path) -> None:
    data = yaml.safe_load(EXAMPLE.read_text())
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps(data))
    env = TabletopEnv(task_file=str(path), image_size=32)
    ex = TabletopExpert(seed=0)
    wins, ids = [], set()
    for seed in range(15):
        _, info = env.reset(seed=seed)
        ex.reset()
        assert info["suite"] == "tasks:example"
        done = False
        while not done:
            _obs, _, term, trunc, info = env.step(ex.act(env))
            done = term or trunc
        wins.append(info["success"])
        ids.add(info["task_id"])
    assert np.mean(wins) >= 0.9 and len(ids) == 3


def test_layout_ranges_are_respected() -> None:
    env = TabletopEnv(task_file=str(EXAMPLE), image_size=32)
    for seed in range(20):
        env.reset(seed=seed, options={"family": "block_to_block_relative"})
        x, y = env.positions()["rubber duck"]
        assert 0.05 <= x <= 0.2 and -0.1 <= y <= 0.1
