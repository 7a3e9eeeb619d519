"""The data a training run reads: its robot and web sources (train and held-out eval), the
robot data's action and state statistics, fingerprint, cameras, and the corpus whose words
stay out of the reserved action ids."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rt2.actions import compute_stats
from rt2.actions.state import StateFormat
from rt2.data.mixture import Source
from rt2.data.robot import (
    dataset_action_names,
    dataset_cameras,
    dataset_fingerprint,
    load_robot_sources,
)
from rt2.training.config import TrainConfig


@dataclass
class TrainData:
    train: dict[str, Source]
    eval: dict[str, Source]
    stats: dict[str, Any] | None
    fingerprint: dict[str, Any] | None
    corpus: list[str]
    action_names: tuple[str, ...] | None = None  # the dataset's, from meta/info.json
    state: StateFormat | None = None  # data.state=tokens: how prompts write the state
    state_stats: dict[str, Any] | None = None
    cameras: tuple[str, ...] = ()  # the cameras the model sees, in order


def load_train_data(config: TrainConfig, data_dir: str | Path | None) -> TrainData:
    train: dict[str, Source] = {}
    evals: dict[str, Source] = {}
    stats = fingerprint = action_names = state = state_stats = None
    cameras: tuple[str, ...] = ()
    corpus: list[str] = []
    if config.data.uses("robot") or config.model.bounds == "stats":
        if data_dir is None:
            raise ValueError(
                "this config trains on robot data: pass --data DIR (a dataset from `rt2 collect`)"
            )
        robot, robot_eval = load_robot_sources(
            data_dir,
            config.data.eval_episodes,
            history=config.model.history,
            plan=config.data.plan_format(),
            chunk=config.model.chunk,
            state=config.data.state == "tokens",
            cameras=(cameras := dataset_cameras(data_dir, config.data.cameras, config.model.kind)),
        )
        stats = compute_stats(robot.actions)  # q01/q99 over every training frame
        action_names = dataset_action_names(data_dir)
        if robot.states is not None:
            state_stats = compute_stats(robot.states)
            names = dataset_action_names(data_dir, "observation.state")
            state = StateFormat.from_stats(names, state_stats, config.model.num_bins)
        fingerprint = dataset_fingerprint(data_dir)
        corpus = sorted(set(robot.instructions))
        if config.data.uses("robot"):
            train["robot"] = robot
            if robot_eval is not None:
                evals["robot"] = robot_eval
    if config.data.uses("web"):
        from rt2.data.web import WebCorpus, WebCorpusConfig, vocabulary_texts

        mix = {"weights": dict(config.data.web_weights)} if config.data.web_weights else {}
        train["web"] = WebCorpus(
            WebCorpusConfig(
                size=config.data.web_size,
                seed=config.seed,
                split="train",
                hold_out_knowledge=config.data.web_hold_out_knowledge,
                point_code=config.data.plan_code,
                **mix,
            )
        )
        evals["web"] = WebCorpus(
            WebCorpusConfig(
                size=max(1, config.data.eval_samples),
                seed=config.seed,
                split="eval",
                point_code=config.data.plan_code,
                **mix,
            )
        )
        corpus += (
            vocabulary_texts()
        )  # every word the web data can emit stays out of the reserved ids
    return TrainData(
        train, evals, stats, fingerprint, corpus, action_names, state, state_stats, cameras
    )


def eval_samples(source: Source, n: int) -> list:
    step = max(1, len(source) // max(1, n))
    return [source[i] for i in range(0, len(source), step)][:n]
