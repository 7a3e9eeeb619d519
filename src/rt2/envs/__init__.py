"""Simulated worlds: the 2-D tabletop (``rt2.envs.tabletop``, ``rt2/Tabletop-v0``) and the 3-D
MuJoCo kitchen (``rt2.envs.kitchen``, ``rt2/Kitchen-v0``); here, what both share (suite files,
table textures, Gymnasium glue) and the tabletop's public names.

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

from rt2.envs.scenery import BACKGROUNDS, ENVIRONMENTS, Environment
from rt2.envs.suite_files import SpecError
from rt2.envs.tabletop.catalogue import COLOURS, CatalogueEntry, catalogue, get_object, objects
from rt2.envs.tabletop.env import STATE_NAMES, TabletopEnv
from rt2.envs.tabletop.expert import TabletopExpert
from rt2.envs.tabletop.scene import Goal, Look, Placed, Scene, Task
from rt2.envs.tabletop.spec import FAMILIES, GroupSpec
from rt2.envs.tabletop.suites import SuiteSpec, list_suites, load_suite
from rt2.envs.tabletop.task_file import TaskFile, load_task_file

ENV_ID = "rt2/Tabletop-v0"

KITCHEN_ENV_ID = "rt2/Kitchen-v0"

if ENV_ID not in gym.registry:
    gym.register(id=ENV_ID, entry_point="rt2.envs.tabletop.env:TabletopEnv")
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
