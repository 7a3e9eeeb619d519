"""Suite logs refuse other settings, and the weights fingerprint follows the checkpoint."""

import pytest

from rt2.evaluation.episode_log import SettingsMismatchError, SuiteLogs, weights_fingerprint
from rt2.evaluation.runner import EpisodeRecord


def test_weights_fingerprint_names_the_checkpoint(tmp_path):
    assert weights_fingerprint("random") is None and weights_fingerprint("expert") is None
    ckpt = tmp_path / "run" / "checkpoints" / "step-000010"
    ckpt.mkdir(parents=True)
    (ckpt / "model.safetensors").write_bytes(b"x" * 100)
    (ckpt / "vla.json").write_text('{"kind": "vla"}')
    first = weights_fingerprint(str(tmp_path / "run"))
    assert first is not None and first == weights_fingerprint(str(ckpt))
    (ckpt / "model.safetensors").write_bytes(b"x" * 101)  # retrained: other weights
    assert weights_fingerprint(str(tmp_path / "run")) != first


def test_suite_logs_resume_only_with_the_same_settings(tmp_path):
    logs = SuiteLogs(tmp_path / "cells", ["seen"])
    assert logs.open({"seed": 0}, resume=False) == {"seen": {}}
    rec = EpisodeRecord("seen", 3, 3, True, 5, True, False, "separate", "t0", "seen", "push", 0.1)
    logs.append(rec)
    assert set(logs.open({"seed": 0}, resume=True)["seen"]) == {3}
    with pytest.raises(SettingsMismatchError, match=r"seed.*--resume") as err:
        logs.open({"seed": 1}, resume=True)
    assert err.value.changed == ["seed"]
    assert logs.open({"seed": 1}, resume=False) == {"seen": {}}  # afresh: the old log is gone
