"""Policy server (websocket + msgpack-numpy for openpi clients, HTTP ``/act`` for OpenVLA
clients) and the matching client. See :mod:`rt2.serving.server`."""

from rt2.serving.batching import BatchConfig, Batcher
from rt2.serving.client import PolicyClient, RemotePolicyError
from rt2.serving.metadata import load_served_policy, policy_metadata
from rt2.serving.protocol import ObservationLimits, RequestError
from rt2.serving.server import BackgroundServer, ServeConfig, serve

__all__ = [
    "BackgroundServer",
    "BatchConfig",
    "Batcher",
    "ObservationLimits",
    "PolicyClient",
    "RemotePolicyError",
    "RequestError",
    "ServeConfig",
    "load_served_policy",
    "policy_metadata",
    "serve",
]
