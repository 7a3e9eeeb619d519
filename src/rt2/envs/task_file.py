"""User task files (placeholder; filled in below)."""
from __future__ import annotations
from dataclasses import dataclass
@dataclass(frozen=True)
class TaskFile:
    name: str
def load_task_file(path: str) -> TaskFile:
    raise NotImplementedError
