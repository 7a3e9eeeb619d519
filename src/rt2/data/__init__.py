"""Datasets in the LeRobot v3.0 layout: writer, reader, statistics and expert collection."""

from rt2.data.format import CODEBASE_VERSION, DatasetFormatError
from rt2.data.reader import Episode, EpisodeDataset, EpisodeInfo
from rt2.data.writer import DatasetSpec, DatasetWriter, EpisodeData

__all__ = [
    "CODEBASE_VERSION",
    "DatasetFormatError",
    "DatasetSpec",
    "DatasetWriter",
    "Episode",
    "EpisodeData",
    "EpisodeDataset",
    "EpisodeInfo",
]
