"""Closed-loop evaluation: policies, the lockstep runner, reports, plots and videos."""

from rt2.evaluation.policies import (
    ExpertPolicy,
    Policy,
    RandomPolicy,
    infer_batch,
    load_checkpoint_policy,
    load_policy,
)
from rt2.evaluation.runner import (
    EpisodeJob,
    EpisodeRecord,
    EvalConfig,
    plan_episodes,
    run_evaluation,
    run_jobs,
)
from rt2.evaluation.wilson import wilson_interval

__all__ = [
    "EpisodeJob",
    "EpisodeRecord",
    "EvalConfig",
    "ExpertPolicy",
    "Policy",
    "RandomPolicy",
    "infer_batch",
    "load_checkpoint_policy",
    "load_policy",
    "plan_episodes",
    "run_evaluation",
    "run_jobs",
    "wilson_interval",
]
