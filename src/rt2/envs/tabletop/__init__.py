"""``rt2/Tabletop-v0``: the 2-D Language-Table-style pushing world (see :mod:`.env`).

Its parts, in the order an episode uses them: the object catalogue (:mod:`.catalogue`) and how
its entries look (:mod:`.drawing`); suites (:mod:`.suites`, ``suites/*.yaml``, checked by
:mod:`.spec`) and user task files (:mod:`.task_file`) that :mod:`.tasks` turns into a
:mod:`.scene` with an instruction (:mod:`.instructions`); pymunk physics (:mod:`.physics`) and the
OpenCV renderer (:mod:`.render`); the scripted expert (:mod:`.expert`); referent accuracy
(:mod:`.referents`) and quick success tables (:mod:`.measure`). What it shares with the kitchen
(suite files, textures, Gymnasium glue) lives one level up, in :mod:`rt2.envs`.
"""

from __future__ import annotations

from rt2.envs.tabletop.env import STATE_NAMES, TabletopEnv
from rt2.envs.tabletop.expert import TabletopExpert
from rt2.envs.tabletop.suites import list_suites, load_suite
from rt2.envs.tabletop.task_file import load_task_file

__all__ = [
    "STATE_NAMES",
    "TabletopEnv",
    "TabletopExpert",
    "list_suites",
    "load_suite",
    "load_task_file",
]
