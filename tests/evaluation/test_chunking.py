"""Playing action chunks in closed loop: open loop and ACT's temporal ensembling."""

import numpy as np
import pytest

from rt2.data.robot import RobotSource
from rt2.evaluation.chunking import ChunkExecution, ChunkExecutor


class Counter:
    """Returns chunk (K, 1) [[c], [c + 1], ...] where c counts the calls per slot."""

    def __init__(self, k: int) -> None:
        self.k, self.calls = k, {}

    def reset(self) -> None:
        self.calls.clear()

    def start_episode(self, slot: int, seed: int) -> None:
        """Per-episode hook: the call count goes on (the test reads it across episodes)."""

    def infer_batch(self, observations):
        out = []
        for o in observations:
            c = self.calls.get(o["env_slot"], 0)
            self.calls[o["env_slot"]] = c + 1
            out.append(10.0 * c + np.arange(self.k, dtype=float)[:, None])
        return np.stack(out)  # (B, K, 1)


def obs(*slots):
    return [{"env_slot": s} for s in slots]


def test_open_loop_plays_the_chunk_then_asks_again():
    ex = ChunkExecutor(Counter(3))
    played = [ex.infer_batch(obs(0, 1))[:, 0].tolist() for _ in range(4)]
    assert played == [[0, 0], [1, 1], [2, 2], [10, 10]]
    assert ex.queries == 4  # two slots, two model calls each
    ex.start_episode(1, seed=5)  # a new episode drops what slot 1 had queued
    assert ex.infer_batch(obs(0, 1))[:, 0].tolist() == [11, 20]


def test_open_loop_with_fewer_steps_than_the_chunk():
    ex = ChunkExecutor(Counter(4), ChunkExecution("open_loop", steps=2))
    assert [float(ex.infer_batch(obs(0))[0, 0]) for _ in range(4)] == [0, 1, 10, 11]


def test_open_loop_plays_the_policys_own_execute_steps_unless_told_otherwise():
    policy = Counter(4)
    policy.execute_steps = 1  # as a checkpoint's model.execute_steps sets it
    ex = ChunkExecutor(policy)
    assert [float(ex.infer_batch(obs(0))[0, 0]) for _ in range(3)] == [0, 10, 20]
    ex = ChunkExecutor(policy, ChunkExecution("open_loop", steps=3))  # --execute-steps wins
    assert [float(ex.infer_batch(obs(1))[0, 0]) for _ in range(4)] == [0, 1, 2, 10]


def test_ensemble_averages_every_chunk_covering_the_step():
    ex = ChunkExecutor(Counter(3), ChunkExecution("ensemble", decay=0.5))
    a0 = ex.infer_batch(obs(0))[0, 0]  # only chunk 0 covers step 0
    a1 = ex.infer_batch(obs(0))[0, 0]  # chunk 0 says 1, chunk 1 says 10 + 0
    w = np.exp(-0.5 * np.arange(2))
    assert a0 == 0 and a1 == pytest.approx((w[0] * 1 + w[1] * 10) / w.sum())
    assert ex.queries == 2  # one model call per step


def test_single_actions_pass_through():
    class One:
        def reset(self):
            pass

        def infer_batch(self, observations):
            return np.ones((len(observations), 2))

    assert ChunkExecutor(One()).infer_batch(obs(0, 1)).shape == (2, 2)
    with pytest.raises(ValueError, match="steps must be >= 1"):
        ChunkExecution("open_loop", steps=0)


def test_chunked_robot_samples_stop_at_the_episode_end():
    images = [np.zeros((3, 8, 8, 3), np.uint8), np.ones((2, 8, 8, 3), np.uint8)]
    actions = [np.arange(3.0)[:, None] * [1, 1], 10 + np.arange(2.0)[:, None] * [1, 1]]
    src = RobotSource(images, actions, ["a", "b"], chunk=3)
    chunk = src[1].action  # episode 0, frame 1: frames 1, 2, then the end
    assert chunk.shape == (3, 2)
    assert np.array_equal(chunk[:2, 0], [1, 2]) and np.isnan(chunk[2]).all()
    assert np.array_equal(src[3].action[:2, 0], [10, 11]) and np.isnan(src[4].action[1:]).all()
