"""Shared fixtures: a tiny VLA checkpoint, servers on free ports, fake policies."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from rt2.serving import BackgroundServer, ServeConfig, load_served_policy, policy_metadata

SMALL = dict(
    image_size=32, patch_size=16, pool=1, vision_dim=32, vision_layers=1, vision_heads=2,
    lm_dim=32, lm_layers=1, lm_heads=2,
)  # fmt: skip
PAYLOAD_MB = 0.25  # small limit so "oversized" stays cheap to send


@pytest.fixture(scope="session", autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised tiny VLA saved as `rt2 train` would (config, vla, stats json)."""
    from rt2.model import build_vla
    from rt2.training.checkpoint import save_checkpoint
    from rt2.training.config import ModelConfig, TrainConfig

    torch.manual_seed(0)
    model = build_vla("tiny", "language_table", **SMALL)
    config = TrainConfig(
        name="serve-test", model=ModelConfig(backbone_options=SMALL, bounds="fixed")
    )
    stats = {"action": {"q01": [-0.05, -0.05], "q99": [0.05, 0.05]}}
    out = tmp_path_factory.mktemp("ckpt")
    files = {"config.json": config.to_dict(), "vla.json": model.spec(), "stats.json": stats}
    save_checkpoint(out, 1, model, files)
    return out


@pytest.fixture(scope="session")
def vla_server(checkpoint: Path) -> Iterator[BackgroundServer]:
    policy, meta = load_served_policy(checkpoint)
    with BackgroundServer(policy, meta, ServeConfig(port=0, max_payload_mb=PAYLOAD_MB)) as server:
        yield server


@pytest.fixture(scope="session")
def local_policy(checkpoint: Path):
    policy, _ = load_served_policy(checkpoint)
    return policy


def observation(seed: int = 0, side: int = 32, instruction: str = "push the red star left") -> dict:
    rng = np.random.default_rng(seed)
    return {
        "image": rng.integers(0, 256, (side, side, 3), dtype=np.uint8),
        "instruction": instruction,
        "state": rng.normal(size=4).astype(np.float32),
    }


class FakeSpace:
    name = "fake"
    names = ("a", "b", "c")
    low = np.zeros(3)
    high = np.ones(3)


class RecordingPolicy:
    """Stateful fake: per-slot step counters and seeds, a chunk of ``horizon`` actions,
    ``delay`` seconds per forward pass, and a failure on the instruction "boom".

    Action row t of a chunk is ``[slot, steps taken in this episode, seed + t]``.
    """

    action_space = FakeSpace()

    def __init__(self, horizon: int = 3, delay: float = 0.0) -> None:
        self.horizon, self.delay = horizon, delay
        self.steps: dict[int, int] = {}
        self.seeds: dict[int, int] = {}
        self.batch_sizes: list[int] = []
        self.threads: set[str] = set()
        self.lock = threading.Lock()

    def reset(self) -> None:
        self.steps.clear()

    def start_episode(self, slot: int, seed: int) -> None:
        self.steps[slot], self.seeds[slot] = 0, seed

    def infer_batch(self, observations: list[dict]) -> np.ndarray:
        assert self.lock.acquire(blocking=False), "two policy calls at once"
        try:
            self.threads.add(threading.current_thread().name)
            self.batch_sizes.append(len(observations))
            if any(o["instruction"] == "boom" for o in observations):
                raise RuntimeError("boom instruction")
            time.sleep(self.delay)
            out = np.zeros((len(observations), self.horizon, 3))  # (B, T, D)
            for i, o in enumerate(observations):
                slot = o["env_slot"]
                self.steps[slot] = self.steps.get(slot, 0) + 1
                out[i, :, 0] = slot
                out[i, :, 1] = self.steps[slot]
                out[i, :, 2] = self.seeds.get(slot, 0) + np.arange(self.horizon)
            return out
        finally:
            self.lock.release()

    def infer(self, obs: dict) -> np.ndarray:
        return self.infer_batch([obs])[0]


@pytest.fixture()
def fake_server(
    request: pytest.FixtureRequest,
) -> Iterator[tuple[BackgroundServer, RecordingPolicy]]:
    """A server around a :class:`RecordingPolicy`; parametrize indirectly with kwargs."""
    kw = getattr(request, "param", {})
    policy = RecordingPolicy(horizon=kw.pop("horizon", 3), delay=kw.pop("delay", 0.0))
    config = ServeConfig(port=0, max_payload_mb=PAYLOAD_MB, **kw)
    with BackgroundServer(policy, policy_metadata(policy, "fake"), config) as server:
        yield server, policy
