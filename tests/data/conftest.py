"""Shared fixtures: a fake tabletop env and expert (see fake_env.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
