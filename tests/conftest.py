"""Test-suite settings shared by every folder."""

import os

import torch

# pytest-xdist runs one worker per core: more torch threads than cores thrash (spin-waits).
if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)
