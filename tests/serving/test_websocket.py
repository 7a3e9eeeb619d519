"""The server through the real, unmodified openpi client (websocket + msgpack-numpy)."""

from __future__ import annotations

import json

import msgpack
import numpy as np
import pytest
import websockets.sync.client as ws_client
from openpi_client import msgpack_numpy
from openpi_client.websocket_client_policy import WebsocketClientPolicy
from websockets.exceptions import ConnectionClosed, InvalidStatus

from rt2.serving import BackgroundServer, ServeConfig, load_served_policy

from .conftest import PAYLOAD_MB, observation

# openpi-client 0.1.2 connects without a context manager, which websockets >= 17.1 warns about
pytestmark = pytest.mark.filterwarnings("ignore:connect\\(\\) must be used:DeprecationWarning")


@pytest.fixture()
def client(vla_server: BackgroundServer):
    c = WebsocketClientPolicy(host="127.0.0.1", port=vla_server.port)
    yield c
    c._ws.close()


def test_metadata_on_connect(client: WebsocketClientPolicy) -> None:
    meta = client.get_server_metadata()
    assert meta["model"] == "serve-test/tiny"
    assert meta["action_space"]["names"] == ["dx", "dy"]
    assert meta["action_space"]["low"] == [-0.05, -0.05]
    assert meta["image_size"] == [32, 32]
    assert meta["stats"]["action"]["q99"] == [0.05, 0.05]
    assert meta["max_batch"] == 16 and meta["action_horizon"] == 1


def test_actions_match_the_local_policy(client: WebsocketClientPolicy, local_policy) -> None:
    for seed in range(3):
        obs = observation(seed)
        reply = client.infer(obs)
        assert reply["actions"].shape == (1, 2)  # (T, D)
        np.testing.assert_array_equal(reply["actions"][0], local_policy.infer(obs))
        assert {"infer_ms", "queue_ms", "batch_size"} <= set(reply["server_timing"])
    # openpi's `prompt` key is accepted for the instruction
    obs = observation(7)
    alias = {"image": obs["image"], "prompt": obs["instruction"]}
    np.testing.assert_array_equal(client.infer(alias)["actions"][0], local_policy.infer(obs))


BAD_OBSERVATIONS = {
    "float image": ({"image": np.zeros((32, 32, 3), np.float32)}, "dtype uint8"),
    "grey image": ({"image": np.zeros((32, 32), np.uint8)}, "shape (H, W, 3)"),
    "RGBA image": ({"image": np.zeros((32, 32, 4), np.uint8)}, "shape (H, W, 3)"),
    "tiny image": ({"image": np.zeros((2, 2, 3), np.uint8)}, "sides must be in"),
    "image as list": ({"image": [[1, 2, 3]]}, "expected a uint8 array"),
    "no image": ({"image": None}, "missing field(s) ['image']"),
    "no instruction": ({"instruction": None}, "missing field(s) ['instruction']"),
    "empty instruction": ({"instruction": "  "}, "instruction: empty"),
    "int instruction": ({"instruction": 3}, "instruction: expected a string"),
    "NaN state": ({"state": np.array([0.0, np.nan], np.float32)}, "NaN/inf) at indices [1]"),
    "inf state": ({"state": np.array([np.inf, 0.0])}, "NaN/inf) at indices [0]"),
    "2-D state": ({"state": np.zeros((2, 2), np.float32)}, "state: expected shape (S,)"),
    "unknown field": (
        {"wrist_image": np.zeros((4, 4, 3), np.uint8)},
        "unknown field(s) ['wrist_image']",
    ),
    "both prompts": ({"prompt": "x"}, "either 'instruction' or 'prompt'"),
}


@pytest.mark.parametrize("case", list(BAD_OBSERVATIONS))
def test_bad_observations_are_refused_and_the_connection_keeps_serving(
    client: WebsocketClientPolicy, local_policy, case: str
) -> None:
    change, expected = BAD_OBSERVATIONS[case]
    obs = {**observation(1), **change}
    obs = {k: v for k, v in obs.items() if v is not None}
    with pytest.raises(RuntimeError, match="Error in inference server") as info:
        client.infer(obs)
    error = json.loads(str(info.value).split("\n", 1)[1])
    assert error["error"] == "invalid_observation" and expected in error["message"], error
    good = observation(2)
    np.testing.assert_array_equal(client.infer(good)["actions"][0], local_policy.infer(good))


def _raw(server: BackgroundServer) -> ws_client.ClientConnection:
    conn = ws_client.connect(server.ws_url, compression=None, max_size=None).__enter__()
    msgpack_numpy.unpackb(conn.recv(timeout=10))  # metadata
    return conn


def _ndarray(dtype: str, shape: list[int], data: bytes) -> dict:
    return {b"__ndarray__": True, b"data": data, b"dtype": dtype, b"shape": shape}


BAD_FRAMES = {
    "garbage bytes": (b"\xc1\xff\x00garbage", "decode_error", "not valid msgpack"),
    "truncated msgpack": (
        msgpack_numpy.packb(observation())[:-10],
        "decode_error",
        "not valid msgpack",
    ),
    "trailing bytes": (
        msgpack_numpy.packb(observation()) + b"xx",
        "decode_error",
        "not valid msgpack",
    ),
    "not a map": (msgpack.packb([1, 2, 3]), "invalid_observation", "must be a map"),
    "object dtype": (
        msgpack.packb({"image": _ndarray("|O", [1], b"\0" * 8), "instruction": "x"}),
        "decode_error",
        "is not allowed",
    ),
    "short array data": (
        msgpack.packb({"image": _ndarray("|u1", [32, 32, 3], b"\0" * 10), "instruction": "x"}),
        "decode_error",
        "needs 3072 bytes, got 10",
    ),
    "unknown dtype": (
        msgpack.packb({"image": _ndarray("zz", [1], b"\0"), "instruction": "x"}),
        "decode_error",
        "unknown array dtype",
    ),
    "text frame": ("hello", "decode_error", "expected a binary msgpack frame"),
    "oversized": (b"\0" * int(PAYLOAD_MB * 2**20 + 100), "payload_too_large", "exceeds the limit"),
    "bad control": (msgpack.packb({"__control__": "explode"}), "decode_error", "__control__"),
}


@pytest.mark.parametrize("case", list(BAD_FRAMES))
def test_bad_frames_get_an_error_frame(
    vla_server: BackgroundServer, local_policy, case: str
) -> None:
    frame, kind, expected = BAD_FRAMES[case]
    with _raw(vla_server) as conn:
        conn.send(frame)
        reply = conn.recv(timeout=10)
        assert isinstance(reply, str), reply
        error = json.loads(reply)
        assert error["error"] == kind and expected in error["message"], error
        good = observation(3)
        conn.send(msgpack_numpy.packb(good))
        actions = msgpack_numpy.unpackb(conn.recv(timeout=10))["actions"]
        np.testing.assert_array_equal(actions[0], local_policy.infer(good))


def test_a_frame_past_the_protocol_limit_closes_only_that_connection(
    vla_server: BackgroundServer, local_policy
) -> None:
    conn = _raw(vla_server)
    # only the header of a binary frame declaring a payload beyond the limit: sending the payload
    # itself races the server's close, and a reset under the send loses the close frame
    size = int((PAYLOAD_MB + 1.5) * 2**20)
    conn.socket.sendall(bytes([0x82, 0x80 | 127]) + size.to_bytes(8, "big") + b"\0\0\0\0")
    with pytest.raises(ConnectionClosed) as info:
        conn.recv(timeout=10)
    assert info.value.rcvd is not None and info.value.rcvd.code == 1009  # message too big
    client = WebsocketClientPolicy(host="127.0.0.1", port=vla_server.port)
    good = observation(4)
    np.testing.assert_array_equal(client.infer(good)["actions"][0], local_policy.infer(good))
    client._ws.close()


def test_token_auth(checkpoint) -> None:
    policy, meta = load_served_policy(checkpoint)
    with BackgroundServer(policy, meta, ServeConfig(port=0, token="s3cret")) as server:
        with pytest.raises(InvalidStatus) as info:
            WebsocketClientPolicy(host="127.0.0.1", port=server.port)
        assert info.value.response.status_code == 401
        assert b"Api-Key" in info.value.response.body
        with pytest.raises(InvalidStatus):
            WebsocketClientPolicy(host="127.0.0.1", port=server.port, api_key="wrong")
        client = WebsocketClientPolicy(host="127.0.0.1", port=server.port, api_key="s3cret")
        assert client.infer(observation())["actions"].shape == (1, 2)
        client._ws.close()


def test_metadata_names_the_actions_to_play_per_chunk_as_measured() -> None:
    """A checkpoint's ``model.execute_steps`` reaches clients; a policy without one says nothing."""
    from types import SimpleNamespace

    from rt2.serving import policy_metadata

    assert policy_metadata(SimpleNamespace(execute_steps=1))["execute_steps"] == 1
    assert "execute_steps" not in policy_metadata(SimpleNamespace(execute_steps=None))
