"""Simulated worlds: the 2-D tabletop (``rt2/Tabletop-v0``), its catalogue, suites and expert.

Importing this package registers ``rt2/Tabletop-v0`` with Gymnasium::

    import gymnasium as gym
    import rt2.envs
    env = gym.make("rt2/Tabletop-v0", suite="seen", image_size=128)
    expert = rt2.envs.TabletopExpert(noise=0.0, seed=0)
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(expert.act(env))
"""

from __future__ import annotations

import gymnasium as gym

from rt2.envs.catalogue import COLOURS, CatalogueEntry, catalogue, get_object, objects
from rt2.envs.expert import TabletopExpert
from rt2.envs.scene import Goal, Look, Placed, Scene, Task
from rt2.envs.scenery import BACKGROUNDS, ENVIRONMENTS, Environment
from rt2.envs.spec import FAMILIES, GroupSpec, SpecError
from rt2.envs.suites import SuiteSpec, list_suites, load_suite
from rt2.envs.tabletop import STATE_NAMES, TabletopEnv
from rt2.envs.task_file import TaskFile, load_task_file

ENV_ID = "rt2/Tabletop-v0"

KITCHEN_ENV_ID = "rt2/Kitchen-v0"

if ENV_ID not in gym.registry:
    gym.register(id=ENV_ID, entry_point="rt2.envs.tabletop:TabletopEnv")
if KITCHEN_ENV_ID not in gym.registry:  # MuJoCo is imported only when the env is made
    gym.register(id=KITCHEN_ENV_ID, entry_point="rt2.envs.kitchen.env:KitchenEnv")

__all__ = [
    "BACKGROUNDS",
    "COLOURS",
    "ENVIRONMENTS",
    "ENV_ID",
    "FAMILIES",
    "KITCHEN_ENV_ID",
    "STATE_NAMES",
    "CatalogueEntry",
    "Environment",
    "Goal",
    "GroupSpec",
    "Look",
    "Placed",
    "Scene",
    "SpecError",
    "SuiteSpec",
    "TabletopEnv",
    "TabletopExpert",
    "Task",
    "TaskFile",
    "catalogue",
    "get_object",
    "list_suites",
    "load_suite",
    "load_task_file",
    "objects",
]
