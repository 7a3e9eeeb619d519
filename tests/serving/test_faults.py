"""Fault tests: slow-header, slow-body, idle and dropped clients against a running server
(loopback, a few dozen sockets, deadlines of about a second) while a normal client is served.

The misbehaving clients connect from 127.0.0.2 (all of 127/8 is loopback on Linux), the normal
one from 127.0.0.1, so the per-address connection cap is exercised as it is meant to work.
"""

from __future__ import annotations

import json
import logging
import socket
import time
import urllib.request
from collections.abc import Iterator

import json_numpy
import pytest

from rt2.serving import (
    BackgroundServer,
    PolicyClient,
    RemotePolicyError,
    ServeConfig,
    policy_metadata,
)

from .conftest import PAYLOAD_MB, RecordingPolicy, observation
from .test_http import post

BAD_HOST = "127.0.0.2"
HEAD = b"POST /act HTTP/1.1\r\nHost: x\r\n"  # no blank line: the head never ends
DEADLINE = 2.0  # header and body timeout of the servers here (s)
CAP = 8  # connections per client address


@pytest.fixture()
def server() -> Iterator[BackgroundServer]:
    policy = RecordingPolicy()
    config = ServeConfig(
        port=0,
        max_payload_mb=PAYLOAD_MB,
        header_timeout_s=DEADLINE,
        body_timeout_s=DEADLINE,
        keep_alive_s=DEADLINE,
        max_connections_per_client=CAP,
    )
    with BackgroundServer(policy, policy_metadata(policy, "fake"), config) as srv:
        yield srv


def connect(server: BackgroundServer, data: bytes = b"", host: str = BAD_HOST) -> socket.socket:
    s = socket.create_connection((server.host, server.port), timeout=10, source_address=(host, 0))
    if data:
        s.sendall(data)
    return s


def read_to_eof(s: socket.socket) -> bytes:
    """Everything the server sends until it closes (the socket timeout bounds the wait)."""
    out = b""
    while chunk := s.recv(4096):
        out += chunk
    return out


def health(server: BackgroundServer) -> dict:
    with urllib.request.urlopen(server.http_url + "/healthz", timeout=10) as r:
        return json.loads(r.read())


def act_ok(server: BackgroundServer) -> bool:
    code, body = post(server.http_url + "/act", json_numpy.dumps(observation()).encode())
    return code == 200 and json_numpy.loads(body).shape == (3,)


def test_slow_and_idle_clients_are_cut_and_capped_while_others_are_served(
    server: BackgroundServer,
) -> None:
    t0 = time.monotonic()
    slow = [connect(server, HEAD) for _ in range(CAP - 2)]  # heads that never end
    idle = [connect(server) for _ in range(2)]  # connected, silent
    refused = [connect(server, HEAD) for _ in range(10)]  # past the cap of this address
    for s in refused:  # answered at once, not after the deadline
        reply = read_to_eof(s)
        assert reply.startswith(b"HTTP/1.1 503") and b"too_many_connections" in reply, reply
    assert time.monotonic() - t0 < DEADLINE
    # the address holds its CAP connections; a normal client from another address is served
    assert health(server)["connections"] >= CAP + 1
    assert act_ok(server)
    with PolicyClient(server.ws_url) as client:  # websockets too
        assert client.infer(observation()).shape == (3,)
    h = health(server)  # ... while the slow ones were still held
    assert h["connections"] >= CAP + 1 and "header_timeout" not in h["rejected"], h
    # the deadline cuts the slow heads with 408 and closes the silent connections
    for s in slow:
        reply = read_to_eof(s)
        assert reply.startswith(b"HTTP/1.1 408") and b"request_timeout" in reply, reply
    for s in idle:
        assert read_to_eof(s) == b""
    waited = time.monotonic() - t0
    assert DEADLINE * 0.9 <= waited < DEADLINE + 5, waited
    for s in slow + idle + refused:
        s.close()
    time.sleep(0.2)
    h = health(server)
    assert h["rejected"] == {
        "header_timeout": CAP - 2,
        "idle_timeout": 2,
        "too_many_connections": 10,
    }
    assert h["rejected_total"] == CAP + 10 and h["errors"] == 0
    # the address got its connections back: it is served again
    s = connect(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert read_to_eof(s).startswith(b"HTTP/1.1 200")
    s.close()


def test_a_trickled_body_is_cut_at_its_deadline(server: BackgroundServer) -> None:
    head = b"POST /act HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"
    s = connect(server, head)
    t0 = time.monotonic()
    s.settimeout(0.3)
    reply = b""
    while time.monotonic() - t0 < DEADLINE + 5:  # a byte every 0.3 s keeps an idle timer alive
        try:
            s.sendall(b"x")
            reply += s.recv(4096)
            if reply.endswith(b"}"):
                break
        except TimeoutError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            break
    waited = time.monotonic() - t0
    s.close()
    assert reply.startswith(b"HTTP/1.1 408") and b"POST /act" in reply, reply
    assert DEADLINE * 0.9 <= waited < DEADLINE + 2, waited
    assert health(server)["rejected"] == {"body_timeout": 1}
    assert act_ok(server)


def test_idle_keep_alive_connections_are_closed(server: BackgroundServer) -> None:
    s = connect(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    t0 = time.monotonic()
    reply = read_to_eof(s)  # the reply, then the close after keep_alive_s of silence
    s.close()
    assert reply.startswith(b"HTTP/1.1 200")
    assert DEADLINE * 0.9 <= time.monotonic() - t0 < DEADLINE + 5


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_a_client_hanging_up_mid_body_is_one_info_line(server: BackgroundServer) -> None:
    records = _Records()
    loggers = [logging.getLogger(name) for name in ("uvicorn", "uvicorn.error", "rt2.serve")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(records)
        lg.setLevel(logging.DEBUG)
    try:
        for _ in range(3):
            s = connect(server, b"POST /act HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
            s.sendall(b"0123456789")
            time.sleep(0.1)  # the app is reading the body
            s.close()
        deadline = time.monotonic() + 5
        while (
            time.monotonic() < deadline
            and health(server)["rejected"].get("client_disconnected", 0) < 3
        ):
            time.sleep(0.05)
        assert act_ok(server)
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.removeHandler(records)
            lg.setLevel(level)
    loud = [r for r in records.records if r.levelno >= logging.WARNING or r.exc_info]
    assert not loud, [r.getMessage() for r in loud]
    hung = [r for r in records.records if "hung up" in r.getMessage()]
    assert len(hung) == 3 and all(r.levelno == logging.INFO for r in hung)
    assert "content-length 1000" in hung[0].getMessage()
    assert health(server)["rejected"] == {"client_disconnected": 3}


def test_healthz_counts_rejected_requests_by_reason(server: BackgroundServer) -> None:
    url = server.http_url + "/act"
    for _ in range(3):
        assert post(url, b"garbage")[0] == 400
    for _ in range(2):
        assert post(url, b"{}")[0] == 422
    assert post(url, b" " * int(PAYLOAD_MB * 2**20 + 1))[0] == 413
    with PolicyClient(server.ws_url) as client:
        with pytest.raises(RemotePolicyError, match="invalid_observation"):
            client.infer({"image": observation()["image"]})
        assert client.infer(observation()).shape == (3,)
    h = health(server)
    assert h["rejected"] == {"decode_error": 3, "invalid_observation": 3, "payload_too_large": 1}
    assert h["rejected_total"] == 7 and h["errors"] == 0 and h["requests"] == 1


def test_connection_limits_are_validated() -> None:
    with pytest.raises(ValueError, match=r"ServeConfig\.header_timeout_s: .* got 0"):
        ServeConfig(header_timeout_s=0)
    with pytest.raises(ValueError, match=r"ServeConfig\.max_connections_per_client: .* got 11"):
        ServeConfig(max_connections=10, max_connections_per_client=11)
    with pytest.raises(ValueError, match=r"ServeConfig\.max_connections: expected >= 1, got 0"):
        ServeConfig(max_connections=0)


def test_serve_help_states_the_limits() -> None:
    import argparse

    from rt2.commands import serve

    parser = argparse.ArgumentParser()
    serve.configure(parser)
    text = " ".join(parser.format_help().split())
    for words in ("--header-timeout S", "--body-timeout S", "--keep-alive S", "gets 408"):
        assert words in text, words
    assert "--max-connections-per-client N" in text and "503 too_many_connections" in text
    args = parser.parse_args(["--checkpoint", "x", "--header-timeout", "2.5"])
    assert args.header_timeout == 2.5 and args.max_connections_per_client == 128
