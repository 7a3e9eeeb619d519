"""A resumable record of one evaluation cell: one JSON line per finished episode.

Each line is appended and flushed as its episode ends, so a crash loses at most the episodes in
flight; reading it back skips a torn last line (and cuts it off before the next append). Since
episode ``i`` depends only on seed + i, a rerun only plays the indices not yet in the log.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rt2.data.format import read_json
from rt2.evaluation.runner import EpisodeJob, EpisodeRecord


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


def weights_fingerprint(spec: str) -> str | None:
    """A short hash naming the weights a policy spec loads (its checkpoint's configs and weight
    size), so a resumed evaluation notices a retrained checkpoint; None for scripted policies."""
    from rt2.policies import SCRIPTED

    if spec in SCRIPTED:
        return None
    from rt2.training.checkpoint import latest_checkpoint
    from rt2.weights import resolve

    ckpt = latest_checkpoint(resolve(spec))
    if ckpt is None:
        return None
    h = hashlib.sha256()
    for name in ("config.json", "vla.json"):
        if (ckpt / name).is_file():
            h.update((ckpt / name).read_bytes())
    h.update(str((ckpt / "model.safetensors").stat().st_size).encode())
    return h.hexdigest()[:16]


def suite_fingerprint(suite: str, task_file: str | Path | None = None) -> str | None:
    """A short hash of what episode i of ``suite`` is drawn from (the built-in suite's YAML, or
    the task file), so a resumed evaluation notices a changed suite; None for other envs."""
    from rt2.envs.tabletop.suites import SUITE_DIR

    path = Path(task_file) if task_file is not None else SUITE_DIR / f"{suite}.yaml"
    if not path.is_file():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _as_json(settings: dict[str, Any]) -> Any:
    """``settings`` as they read back from JSON (tuples as lists, paths as strings)."""
    return json.loads(json.dumps(settings, default=str))


class SettingsMismatchError(ValueError):
    """Episodes on disk were played with other settings; ``changed`` names the fields."""

    def __init__(self, where: Path, changed: list[str], hint: str) -> None:
        super().__init__(
            f"{where} holds episodes played with other settings ({', '.join(changed)} differ); "
            + hint
        )
        self.changed = changed


class SuiteLogs:
    """The episode logs of one evaluation: ``DIR/SUITE.jsonl`` per suite, next to the settings
    they were played with (``DIR/settings.json``). ``rt2 eval`` keeps them in ``OUT/cells``,
    ``rt2 reproduce`` in ``OUT/cells/MODEL``.

    ``open(settings, resume=False)`` starts afresh; with ``resume`` it keeps what is logged,
    refusing if the settings differ (the number of episodes is not a setting: episode i never
    changes)."""

    def __init__(self, directory: str | Path, suites: Sequence[str]) -> None:
        self.dir = Path(directory)
        self.logs = {
            s: EpisodeLog(self.dir / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', s)}.jsonl") for s in suites
        }

    def check(self, settings: dict[str, Any], hint: str) -> None:
        """Raise :class:`SettingsMismatchError` (ending with ``hint``) if the logged settings differ."""
        settings = _as_json(settings)
        saved = read_json(self.dir / "settings.json", None)
        if saved is not None and saved != settings:
            changed = sorted(
                k for k in settings.keys() | saved.keys() if settings.get(k) != saved.get(k)
            )
            raise SettingsMismatchError(self.dir, changed, hint)

    def open(
        self,
        settings: dict[str, Any],
        resume: bool,
        hint: str = "use another --out, or run without --resume to start afresh",
    ) -> dict[str, dict[int, EpisodeRecord]]:
        """Prepare the logs; the records already played, per suite (empty unless ``resume``)."""
        from rt2.data.format import atomic_write_json

        if resume:
            self.check(settings, hint)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.dir / "settings.json", _as_json(settings))
        return self.read()

    def read(self) -> dict[str, dict[int, EpisodeRecord]]:
        """The records logged so far, per suite (a torn last line is cut off first)."""
        done = {}
        for suite, log in self.logs.items():
            log.repair()
            done[suite] = log.read()
        return done

    def append(self, record: EpisodeRecord) -> None:
        self.logs[record.suite].append(record)

    @staticmethod
    def remaining(
        jobs: Sequence[EpisodeJob], done: dict[str, dict[int, EpisodeRecord]]
    ) -> list[EpisodeJob]:
        """The jobs whose episode is not logged yet."""
        return [j for j in jobs if j.index not in done.get(j.suite, {})]

    @staticmethod
    def merge(
        jobs: Sequence[EpisodeJob],
        done: dict[str, dict[int, EpisodeRecord]],
        new: Sequence[EpisodeRecord],
    ) -> list[EpisodeRecord]:
        """Logged and new records in the order of ``jobs``."""
        found = {(r.suite, r.index): r for r in new}
        for suite, records in done.items():
            for i, r in records.items():
                found.setdefault((suite, i), r)
        return [found[(j.suite, j.index)] for j in jobs if (j.suite, j.index) in found]
