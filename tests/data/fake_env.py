"""A tiny stand-in for ``rt2/Tabletop-v0`` with the same observation/info contract."""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

FAMILIES = ("block_to_location", "block_to_block")


class FakeTabletop(gym.Env):
    """A point block pushed straight by (dx, dy); success within 0.05 of the target."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, suite: str = "seen", image_size: int = 32, max_steps: int = 20) -> None:
        self.suite, self.image_size, self.max_steps = suite, image_size, max_steps
        self.action_space = gym.spaces.Box(-0.05, 0.05, (2,), np.float32)
        self.observation_space = gym.spaces.Dict(
            {
                "image": gym.spaces.Box(0, 255, (image_size, image_size, 3), np.uint8),
                "state": gym.spaces.Box(-1, 1, (2,), np.float32),
            }
        )
        self.state_names = ("block_x", "block_y")
        self.pos = np.zeros(2)
        self.target = np.zeros(2)

    def reset(self, *, seed: int | None = None, options: Any = None) -> tuple[dict, dict]:
        super().reset(seed=seed)
        rng = self.np_random
        self.pos = rng.uniform(-0.3, 0.3, 2)
        self.target = rng.uniform(-0.3, 0.3, 2)
        self.family = FAMILIES[int(rng.integers(len(FAMILIES)))]
        self.group = "easy" if rng.random() < 0.5 else "hard"
        self.t = 0
        return self._obs(), self._info()

    def step(self, action: np.ndarray) -> tuple[dict, float, bool, bool, dict]:
        a = np.clip(np.asarray(action, dtype=np.float64).reshape(-1)[-2:], -0.05, 0.05)
        self.pos = np.clip(self.pos + a, -0.5, 0.5)
        self.t += 1
        info = self._info()
        return self._obs(), float(info["success"]), info["success"], self.t >= self.max_steps, info

    def render(self) -> np.ndarray:
        s = self.image_size
        img = np.full((s, s, 3), 200, np.uint8)
        for p, colour in ((self.target, (0, 200, 0)), (self.pos, (220, 30, 30))):
            x, y = ((p + 0.5) * (s - 1)).astype(int)
            img[max(y - 1, 0) : y + 2, max(x - 1, 0) : x + 2] = colour
        return img

    def _obs(self) -> dict[str, Any]:
        return {
            "image": self.render(),
            "instruction": f"push the red block to the green mark ({self.family})",
            "state": self.pos.astype(np.float32),
        }

    def _info(self) -> dict[str, Any]:
        return {
            "success": bool(np.linalg.norm(self.pos - self.target) < 0.05),
            "task_family": self.family,
            "task_id": f"{self.family}/0",
            "suite": self.suite,
            "split_group": self.group,
        }


class FakeExpert:
    """Moves the block straight at the target (optionally noisy)."""

    def __init__(self, noise: float = 0.0, seed: int = 0) -> None:
        self.noise, self.rng = noise, np.random.default_rng(seed)

    def reset(self) -> None:
        pass

    def act(self, env: gym.Env) -> np.ndarray:
        e = env.unwrapped
        a = np.clip(e.target - e.pos, -0.04, 0.04) + self.noise * self.rng.normal(size=2) * 0.05
        return np.clip(a, -0.05, 0.05).astype(np.float32)
