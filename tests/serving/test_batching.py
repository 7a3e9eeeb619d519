"""Batching across connections, per-connection episode state, chunks, failures, configs."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from openpi_client.websocket_client_policy import WebsocketClientPolicy

from rt2.serving import BatchConfig, PolicyClient, RemotePolicyError, ServeConfig
from rt2.serving.protocol import ObservationLimits

from .conftest import observation

pytestmark = pytest.mark.filterwarnings("ignore:connect\\(\\) must be used:DeprecationWarning")


@pytest.mark.parametrize("fake_server", [{"delay": 0.05, "max_wait_ms": 50.0}], indirect=True)
def test_concurrent_clients_share_forward_passes(fake_server) -> None:
    server, policy = fake_server
    n, steps = 6, 4
    clients = [WebsocketClientPolicy(host="127.0.0.1", port=server.port) for _ in range(n)]
    barrier = threading.Barrier(n)
    results: dict[int, list] = {}

    def run(i: int) -> None:
        out = []
        for _ in range(steps):
            barrier.wait(timeout=10)
            out.append(clients[i].infer(observation(i))["actions"])
        results[i] = out

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == n
    assert max(policy.batch_sizes) > 1, policy.batch_sizes  # requests were batched
    assert sum(policy.batch_sizes) == n * steps
    assert len(policy.batch_sizes) < n * steps
    assert policy.threads == {"rt2-policy_0"}  # one policy thread, never the event loop
    slots = {int(results[i][0][0, 0]) for i in range(n)}
    assert len(slots) == n  # each connection its own slot
    for i in range(n):  # each connection's own step counter: 1, 2, 3, 4
        assert [int(a[0, 1]) for a in results[i]] == list(range(1, steps + 1))
    for c in clients:
        c._ws.close()


def test_slots_reset_and_chunks(fake_server) -> None:
    server, _ = fake_server
    with PolicyClient(server.ws_url) as client:
        obs = [{**observation(i), "env_slot": i} for i in range(3)]
        client.start_episode(1, seed=40)
        first = client.infer_chunks(obs)
        assert first.shape == (3, 3, 3)  # (B, T, D): a chunk of 3 actions per env
        np.testing.assert_array_equal(first[1, :, 2], [40, 41, 42])  # seeded by start_episode
        second = client.infer_batch(obs)
        assert second.shape == (3, 3) and list(second[:, 1]) == [2, 2, 2]
        client.start_episode(2, seed=7)
        third = client.infer_chunks(obs)
        assert list(third[:, 0, 1]) == [3, 3, 1]  # only slot 2 restarted its episode
        assert third[2, 0, 2] == 7
        client.reset()
        assert list(client.infer_batch(obs)[:, 1]) == [1, 1, 1]
        assert client.metadata["action_space"]["names"] == ["a", "b", "c"]


@pytest.mark.parametrize("fake_server", [{"action_horizon": 2}], indirect=True)
def test_action_horizon_cuts_chunks(fake_server) -> None:
    server, _ = fake_server
    with PolicyClient(server.http_url) as client:
        assert client.infer_chunks([observation()]).shape == (1, 2, 3)


@pytest.mark.parametrize("fake_server", [{"delay": 0.05, "max_wait_ms": 100.0}], indirect=True)
def test_a_failing_row_does_not_fail_its_batch(fake_server) -> None:
    server, policy = fake_server
    with PolicyClient(server.ws_url) as client:
        obs = [{**observation(i), "env_slot": i} for i in range(3)]
        obs[1]["instruction"] = "boom"
        client.infer_batch([{**o, "instruction": "warm up"} for o in obs])  # open connections
        with pytest.raises(RemotePolicyError, match=r"inference_error.*boom instruction"):
            client.infer_batch(obs)
        assert 3 in policy.batch_sizes  # the rows were batched, then retried one by one
        good = [o for i, o in enumerate(obs) if i != 1]
        assert client.infer_batch(good).shape == (2, 3)


def test_configs_name_the_bad_field() -> None:
    with pytest.raises(ValueError, match="max_batch: expected >= 1, got 0"):
        BatchConfig(max_batch=0)
    with pytest.raises(ValueError, match="max_wait_ms"):
        ServeConfig(max_wait_ms=-1)
    with pytest.raises(ValueError, match=r"port: expected 0\.\.65535, got 70000"):
        ServeConfig(port=70000)
    with pytest.raises(ValueError, match="max_payload_mb"):
        ServeConfig(max_payload_mb=0)
    with pytest.raises(ValueError, match="token: empty"):
        ServeConfig(token="")
    with pytest.raises(ValueError, match="min_image_side"):
        ObservationLimits(min_image_side=64, max_image_side=32)
    with pytest.raises(ValueError, match="policy server URL"):
        PolicyClient("tcp://localhost:1")
