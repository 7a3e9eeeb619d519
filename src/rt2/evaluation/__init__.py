"""Closed-loop evaluation: the lockstep runner, reports, plots and videos (policies:
:mod:`rt2.policies`)."""

from rt2.evaluation.rates import Rate, wilson_interval
from rt2.evaluation.runner import (
    EpisodeJob,
    EpisodeRecord,
    EvalConfig,
    plan_episodes,
    run_evaluation,
    run_jobs,
)

__all__ = [
    "EpisodeJob",
    "EpisodeRecord",
    "EvalConfig",
    "Rate",
    "plan_episodes",
    "run_evaluation",
    "run_jobs",
    "wilson_interval",
]
