"""A resumable record of one evaluation cell: one JSON line per finished episode.

Each line is appended and flushed as its episode ends, so a crash loses at most the episodes in
flight; reading it back skips a torn last line (and cuts it off before the next append). Since
episode ``i`` depends only on seed + i, a rerun only plays the indices not yet in the log.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from rt2.evaluation.runner import EpisodeRecord


class EpisodeLog:
    """``episodes.jsonl`` of one (policy, suite) cell, keyed by episode index."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def read(self) -> dict[int, EpisodeRecord]:
        """Every complete record by index (the first one wins if an index repeats)."""
        if not self.path.is_file():
            return {}
        data = self.path.read_bytes()
        complete = data[: data.rfind(b"\n") + 1]  # a torn last line has no newline yet
        out: dict[int, EpisodeRecord] = {}
        for line in complete.decode("utf-8").splitlines():
            if line.strip():
                rec = EpisodeRecord.from_dict(json.loads(line))
                out.setdefault(rec.index, rec)
        return out

    def repair(self) -> None:
        """Cut a torn last line off, so the next append starts on a fresh line."""
        if not self.path.is_file():
            return
        data = self.path.read_bytes()
        keep = data.rfind(b"\n") + 1
        if keep != len(data):
            with self.path.open("r+b") as f:
                f.truncate(keep)

    def append(self, record: EpisodeRecord) -> None:
        """Write ``record`` as one line and flush it to disk."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record.to_dict()) + "\n")
            f.flush()
            os.fsync(f.fileno())


def read_json(path: Path) -> Any:
    """``path``'s JSON, or None if it does not exist."""
    return json.loads(path.read_text()) if path.is_file() else None
