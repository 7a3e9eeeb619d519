"""`rt2 collect` smoke run (fake simulator) and resume through the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_env import FakeExpert, FakeTabletop

from rt2.cli import main
from rt2.data import EpisodeDataset
from rt2.data.collect import CollectConfig


def test_cli_collect_and_resume(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        CollectConfig, "make_env", lambda self: FakeTabletop(image_size=self.image_size)
    )
    monkeypatch.setattr(
        CollectConfig, "make_expert", lambda self, seed: FakeExpert(self.noise, seed)
    )
    out = tmp_path / "ds"
    base = [
        "collect",
        "--env",
        "tabletop",
        "--suite",
        "seen",
        "--out",
        str(out),
        "--image-size",
        "24",
    ]
    assert main([*base, "--episodes", "3", "--no-progress"]) == 0
    assert main([*base, "--episodes", "5", "--noise", "0.1", "--seed", "0", "--no-progress"]) == 0
    ds = EpisodeDataset(out)
    assert ds.num_episodes == 5 and ds[0]["observation.image"].shape == (24, 24, 3)
    with pytest.raises(ValueError, match="episodes"):
        main([*base, "--episodes", "0", "--no-progress"])
