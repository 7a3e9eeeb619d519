"""Lockstep runner: batching, determinism, sharding, policies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fake_env import FakeExpert, FakeTabletop

from rt2.evaluation import EvalConfig, plan_episodes, run_evaluation, run_jobs
from rt2.policies import ExpertPolicy, PolicyKind, RandomPolicy, load_policy, loader, policy_for


def _env(suite: str) -> FakeTabletop:
    return FakeTabletop(suite=suite, max_steps=15)


def _expert() -> ExpertPolicy:
    return ExpertPolicy(expert_factory=lambda noise, seed: FakeExpert(noise, seed))


class CountingPolicy(RandomPolicy):
    """Counts batched calls and their sizes."""

    def __init__(self) -> None:
        super().__init__(seed=1)
        self.calls: list[int] = []

    def infer_batch(self, observations: list[dict[str, Any]]) -> np.ndarray:
        self.calls.append(len(observations))
        return super().infer_batch(observations)


def test_expert_succeeds_and_random_fails() -> None:
    cfg = EvalConfig(suites=("seen", "unseen_objects"), episodes=12, num_envs=4)
    expert = run_evaluation(cfg, _expert(), env_factory=_env)
    random = run_evaluation(cfg, RandomPolicy(seed=0), env_factory=_env)
    assert len(expert) == len(random) == 24
    assert all(r.success for r in expert)
    assert sum(r.success for r in random) <= 3
    assert [(r.suite, r.index, r.seed) for r in expert] == [
        (j.suite, j.index, j.seed) for j in plan_episodes(cfg)
    ]
    assert all(r.truncated and r.steps == 15 for r in random if not r.success)


def test_one_batched_call_per_step() -> None:
    cfg = EvalConfig(suites=("seen",), episodes=6, num_envs=3)
    policy = CountingPolicy()
    records = run_evaluation(cfg, policy, env_factory=_env)
    assert max(policy.calls) == 3
    assert sum(policy.calls) == sum(
        r.steps for r in records
    )  # every env step came from a batch row
    assert len(policy.calls) < sum(r.steps for r in records)


@pytest.mark.parametrize("policy_factory", [lambda: RandomPolicy(seed=3), _expert])
def test_results_do_not_depend_on_batching_or_sharding(policy_factory: Any) -> None:
    cfg = EvalConfig(suites=("seen", "emergent"), episodes=7, num_envs=1)
    one = run_evaluation(cfg, policy_factory(), env_factory=_env)
    many = run_evaluation(
        EvalConfig(suites=cfg.suites, episodes=7, num_envs=5), policy_factory(), env_factory=_env
    )
    jobs = plan_episodes(cfg)
    shards = [run_jobs(jobs[k::3], policy_factory(), _env, num_envs=2) for k in range(3)]
    merged = sorted(
        (r for s in shards for r in s), key=lambda r: (cfg.suites.index(r.suite), r.index)
    )
    key = [(r.suite, r.index, r.success, r.steps, r.instruction) for r in one]
    assert key == [(r.suite, r.index, r.success, r.steps, r.instruction) for r in many]
    assert key == [(r.suite, r.index, r.success, r.steps, r.instruction) for r in merged]


def test_policy_without_batch_or_hooks_gets_reset_per_episode() -> None:
    class Simple:
        def __init__(self) -> None:
            self.resets = 0

        def reset(self) -> None:
            self.resets += 1

        def infer(self, obs: dict[str, Any]) -> np.ndarray:
            assert obs["image"].dtype == np.uint8 and isinstance(obs["instruction"], str)
            return np.zeros(2)

    p = Simple()
    recs = run_evaluation(EvalConfig(suites=("seen",), episodes=4, num_envs=2), p, env_factory=_env)
    assert len(recs) == 4 and p.resets == 1 + 4


def test_random_policy_respects_bounds() -> None:
    p = RandomPolicy(seed=0)
    p.start_episode(0, 5)
    a = np.stack([p.infer({"env_slot": 0}) for _ in range(200)])
    assert a.shape == (200, 2) and np.all(np.abs(a) <= 0.05) and a.std() > 0.01


def test_config_validation_names_field() -> None:
    with pytest.raises(ValueError, match="episodes"):
        EvalConfig(suites=("seen",), episodes=0)
    with pytest.raises(ValueError, match="suites"):
        EvalConfig(suites=(), episodes=1)
    with pytest.raises(ValueError, match="num_envs"):
        EvalConfig(suites=("seen",), episodes=1, num_envs=0)


def test_load_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(load_policy("random"), RandomPolicy)
    assert isinstance(load_policy("expert"), ExpertPolicy)
    with pytest.raises(FileNotFoundError, match="no such checkpoint"):
        load_policy(str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="not a checkpoint"):
        load_policy(str(tmp_path))


def test_one_loader_the_config_kind_picks_the_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    import rt2.training.factory as factory
    from rt2.training.config import TrainConfig

    (tmp_path / "model.safetensors").write_bytes(b"")
    config = TrainConfig().to_dict()
    config["model"]["kind"] = "rt1"
    (tmp_path / "config.json").write_text(json.dumps(config))
    built: list[tuple[str, Any]] = []
    monkeypatch.setattr(factory, "load_model", lambda ckpt: f"model from {Path(ckpt).name}")

    def kind(name: str) -> PolicyKind:
        return PolicyKind(
            wrap=lambda model, cfg: built.append((name, model, cfg.model.kind)) or RandomPolicy(),
            prepare=lambda model, compile: built.append((name, model, compile)),
        )

    monkeypatch.setattr(loader, "POLICY_KINDS", {name: kind(name) for name in ("vla", "rt1")})
    assert isinstance(load_policy(str(tmp_path)), RandomPolicy)
    model = f"model from {tmp_path.name}"
    assert built == [("rt1", model, False), ("rt1", model, "rt1")]  # prepared, then wrapped
    config["model"]["kind"] = "vla"
    (tmp_path / "config.json").write_text(json.dumps(config))
    load_policy(str(tmp_path), compile=True)  # --compile reaches the policy builder
    assert built[-2:] == [("vla", model, True), ("vla", model, "vla")]
    monkeypatch.setattr(loader, "POLICY_KINDS", {"vla": loader.POLICY_KINDS["vla"]})
    config["model"]["kind"] = "rt1"
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"model\.kind='rt1' has no policy"):
        load_policy(str(tmp_path))


def test_plans_of_a_planning_policy_caption_its_videos(monkeypatch: pytest.MonkeyPatch) -> None:
    """A chain-of-thought policy's plan for each frame reaches the video writer with that frame."""
    from types import SimpleNamespace

    import rt2.evaluation.videos as videos

    class Planner(RandomPolicy):
        def infer_batch(self, observations: list[dict[str, Any]]) -> np.ndarray:
            self.n = getattr(self, "n", 0) + 1
            plans = [f" Plan: step {self.n}. Action:" for _ in observations]
            self.last_result = SimpleNamespace(plans=plans)
            return super().infer_batch(observations)

    written: list[tuple[int, list[str]]] = []
    monkeypatch.setattr(
        videos,
        "write_episode_video",
        lambda frames, instruction, path, success, captions: written.append(
            (len(frames), list(captions))
        ),
    )
    cfg = EvalConfig(suites=("seen",), episodes=1, num_envs=1, videos=1)
    (rec,) = run_evaluation(cfg, Planner(seed=0), env_factory=_env, video_dir=Path("unused"))
    ((n_frames, captions),) = written
    assert n_frames == rec.steps + 1 and len(captions) == rec.steps
    assert captions[:2] == ["plan: step 1", "plan: step 2"]


def test_rt1_policies_refuse_compile() -> None:
    with pytest.raises(ValueError, match="RT-1 policies run eager"):
        loader.POLICY_KINDS["rt1"].prepare(None, True)


def test_policy_for_wraps_a_live_model_by_its_kind() -> None:
    """The trainer's rollouts and the loader share one kind -> policy registry."""
    from types import SimpleNamespace

    from rt2.policies.vla import VLAPolicy

    class Model:
        def eval(self) -> Model:
            return self

    from rt2.data.plan import PlanFormat
    from rt2.training.config import DataConfig

    data = DataConfig(plan_bins=32, plan_code="letters")
    model = SimpleNamespace(kind="vla", plan_source="lm", execute_steps=1)
    config = SimpleNamespace(model=model, data=data)
    policy = policy_for(Model(), config)
    assert isinstance(policy, VLAPolicy) and policy.cot is True
    assert policy.execute_steps == 1  # played per call as the checkpoint's config says
    assert not hasattr(policy.model, "head_plan")  # the LM writes its own plan
    config.model.plan_source = "head"  # the grounding head writes it, on the data's plan grid
    assert policy_for(Model(), config).model.head_plan == PlanFormat(bins=32, code="letters")
    config.model.kind = "mystery"
    with pytest.raises(ValueError, match=r"model\.kind='mystery' has no policy"):
        policy_for(Model(), config)
