"""OpenVLA-style HTTP: json-numpy ``POST /act`` (as OpenVLA's deploy client sends it), plus
``/infer``, ``/healthz``, ``/metadata`` and every kind of bad request."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request

import json_numpy
import numpy as np
import pytest

from rt2.serving import (
    BackgroundServer,
    PolicyClient,
    RemotePolicyError,
    ServeConfig,
    load_served_policy,
)

from .conftest import PAYLOAD_MB, observation


def post(url: str, body: bytes, headers: dict | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, headers=headers or {}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def test_act_is_openvla_compatible(vla_server: BackgroundServer, local_policy) -> None:
    obs = observation(5)
    payload = {"image": obs["image"], "instruction": obs["instruction"], "unnorm_key": "bridge"}
    status, body = post(vla_server.http_url + "/act", json_numpy.dumps(payload).encode())
    assert status == 200
    action = json_numpy.loads(body)
    assert isinstance(action, np.ndarray) and action.shape == (2,)
    np.testing.assert_array_equal(action, local_policy.infer(obs))
    # OpenVLA's double-encoded form {"encoded": "<json>"}
    wrapped = json.dumps({"encoded": json_numpy.dumps(payload)}).encode()
    status, body = post(vla_server.http_url + "/act", wrapped)
    assert status == 200 and np.array_equal(json_numpy.loads(body), action)


def test_infer_healthz_metadata(vla_server: BackgroundServer, local_policy) -> None:
    obs = observation(6)
    status, body = post(vla_server.http_url + "/infer", json_numpy.dumps(obs).encode())
    reply = json_numpy.loads(body)
    assert status == 200 and reply["actions"].shape == (1, 2)
    np.testing.assert_array_equal(reply["actions"][0], local_policy.infer(obs))
    health = get(vla_server.http_url + "/healthz")
    assert health["status"] == "ok" and health["requests"] >= 1
    meta = get(vla_server.http_url + "/metadata")
    assert meta["action_space"]["names"] == ["dx", "dy"] and meta["image_size"] == [32, 32]


def _json_obs(**change) -> bytes:
    obs = {**observation(1), **change}
    return json_numpy.dumps({k: v for k, v in obs.items() if v is not None}).encode()


BAD_BODIES = {
    "garbage": (b"\x00\xffnot json", 400, "not valid JSON"),
    "empty": (b"", 400, "not valid JSON"),
    "bad base64": (b'{"image": {"__numpy__": "!!!", "dtype": "|u1", "shape": [1]}}', 400, "base64"),
    "object dtype": (
        b'{"image": {"__numpy__": "AAAAAAAAAAA=", "dtype": "|O", "shape": [1]}, "instruction": "x"}',
        400,
        "not allowed",
    ),
    "missing instruction": (_json_obs(instruction=None), 422, "missing field(s) ['instruction']"),
    "missing image": (_json_obs(image=None), 422, "missing field(s) ['image']"),
    "float image": (_json_obs(image=np.zeros((32, 32, 3))), 422, "dtype uint8"),
    "flat image": (_json_obs(image=np.zeros(3072, np.uint8)), 422, "shape (H, W, 3)"),
    "NaN state": (_json_obs(state=np.array([np.nan])), 422, "NaN/inf"),
    "unknown field": (_json_obs(proprio=np.zeros(3)), 422, "unknown field(s) ['proprio']"),
    "oversized": (b" " * int(PAYLOAD_MB * 2**20 + 1), 413, "exceeds the limit"),
}


@pytest.mark.parametrize("case", list(BAD_BODIES))
def test_bad_requests_get_clear_errors(
    vla_server: BackgroundServer, local_policy, case: str
) -> None:
    body, status, expected = BAD_BODIES[case]
    code, reply = post(vla_server.http_url + "/act", body)
    error = json.loads(reply)
    assert code == status and expected in error["message"], (code, error)
    obs = observation(2)
    code, reply = post(vla_server.http_url + "/act", json_numpy.dumps(obs).encode())
    assert code == 200 and np.array_equal(json_numpy.loads(reply), local_policy.infer(obs))


def test_raw_garbage_on_the_socket_does_not_hurt(vla_server: BackgroundServer) -> None:
    for junk in (b"\x16\x03\x01\x02\x00garbage\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"\xff" * 5000):
        with socket.create_connection((vla_server.host, vla_server.port), timeout=10) as s:
            s.sendall(junk)
            s.shutdown(socket.SHUT_WR)
            reply = s.recv(1000)
            assert reply == b"" or reply.startswith(b"HTTP/1.1 4"), reply
    assert get(vla_server.http_url + "/healthz")["status"] == "ok"


def test_http_token(checkpoint) -> None:
    policy, meta = load_served_policy(checkpoint)
    body = json_numpy.dumps(observation()).encode()
    with BackgroundServer(policy, meta, ServeConfig(port=0, token="tok")) as server:
        code, reply = post(server.http_url + "/act", body)
        assert code == 401 and json.loads(reply)["error"] == "unauthorized"
        code, _ = post(server.http_url + "/act", body, {"Authorization": "Bearer nope"})
        assert code == 401
        code, _ = post(server.http_url + "/act", body, {"Authorization": "Bearer tok"})
        assert code == 200
        with pytest.raises(RemotePolicyError, match="unauthorized"):
            PolicyClient(server.http_url)
        with PolicyClient(server.http_url, token="tok") as client:
            assert client.infer(observation()).shape == (2,)


def test_served_policy_compiles_and_warms_up_before_serving(checkpoint, monkeypatch) -> None:
    from rt2.model import VLA

    calls: list[str] = []
    monkeypatch.setattr(
        VLA, "compile_for_inference", lambda self, mode="max-autotune": calls.append(mode) or self
    )
    policy, _ = load_served_policy(checkpoint)
    assert calls == [] and policy.last_result is None
    policy, _ = load_served_policy(checkpoint, compile=True)
    assert calls == ["max-autotune"] and policy.last_result is not None  # warmed up on load
