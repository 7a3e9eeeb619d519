"""Constrained decoding of actions (and free decoding of text) with a KV cache."""

from rt2.decoding.generate import Generation, SamplingConfig, generate

__all__ = ["Generation", "SamplingConfig", "generate"]
