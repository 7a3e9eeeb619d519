"""Baselines trained and evaluated through the same data, trainer, suites and bench as RT-2."""
