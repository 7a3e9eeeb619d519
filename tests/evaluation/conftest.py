"""Evaluation tests reuse the fake tabletop env from tests/data."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "data"))
