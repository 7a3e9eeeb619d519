"""Robot samples with history carry the earlier frames and the actions taken at them."""

import numpy as np

from rt2.data.robot import RobotSource


def test_history_frames_and_actions_repeat_the_episode_start():
    images = [np.full((3, 4, 4, 3), i, np.uint8) for i in range(2)]  # frame value = episode
    actions = [np.arange(3.0)[:, None] * [1, -1], 10 + np.arange(3.0)[:, None] * [1, -1]]
    src = RobotSource(images, actions, ["a", "b"], history=2)
    s = src[4]  # episode 1, frame 1: history = frame 0 twice (the start repeats)
    assert s.history.shape == (2, 4, 4, 3) and (s.history == 1).all()
    assert np.array_equal(s.history_actions[:, 0], [10, 10])
    assert np.array_equal(s.action, [11, 9])
    s = src[2]  # episode 0, frame 2: frames 0 and 1, never episode 1's
    assert np.array_equal(s.history_actions, [[0, 0], [1, -1]])
    assert src[0].history_actions.shape == (2, 2)
    assert RobotSource(images, actions, ["a", "b"])[4].history_actions is None
