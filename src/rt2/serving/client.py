"""A client for ``rt2 serve``: a :class:`~rt2.policies.Policy` that acts over the network.

``ws://`` URLs speak the openpi protocol (msgpack-numpy) with one connection per env slot, so a
stateful policy on the server keeps one history per slot and ``infer_batch`` sends all slots'
requests before reading any reply (the server batches them into one forward pass). ``http://``
URLs post json-numpy to ``/infer`` (stateless, OpenVLA style).
"""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlparse

import numpy as np
import websockets.sync.client as ws_client

from rt2.serving.protocol import CONTROL_KEY, json_dumps, json_loads, packb, unpackb

#: observation keys sent to the server (the runner's ``env_slot`` picks the connection instead)
SENT_KEYS = ("image", "instruction", "state")


class RemotePolicyError(RuntimeError):
    """The server refused a request or failed; ``kind`` is its error kind."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"policy server: {kind}: {message}")
        self.kind = kind


def _error_from_text(text: str) -> RemotePolicyError:
    try:
        data = json.loads(text)
        return RemotePolicyError(str(data["error"]), str(data["message"]))
    except (ValueError, KeyError, TypeError):
        return RemotePolicyError("error", text)


class PolicyClient:
    """``infer`` / ``infer_batch`` / ``reset`` / ``start_episode`` against a running server."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 60.0) -> None:
        parsed = urlparse(url)
        if parsed.scheme not in ("ws", "wss", "http", "https") or not parsed.netloc:
            raise ValueError(
                f"policy server URL: expected ws://HOST:PORT or http://HOST:PORT, got {url!r}"
            )
        self.url = url.rstrip("/")
        self.scheme = parsed.scheme
        self.token = token
        self.timeout = timeout
        self._conns: dict[int, ws_client.ClientConnection] = {}
        self._pool: ThreadPoolExecutor | None = None
        self.metadata: dict[str, Any] = self._fetch_metadata()
        self.last_actions: np.ndarray | None = None  # (B, T, D) chunks of the latest call

    @property
    def is_websocket(self) -> bool:
        return self.scheme in ("ws", "wss")

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Api-Key {self.token}"} if self.token else {}

    # ---- websocket ------------------------------------------------------------------------
    def _conn(self, slot: int) -> ws_client.ClientConnection:
        conn = self._conns.get(slot)
        if conn is None:
            conn = ws_client.connect(
                self.url,
                compression=None,
                max_size=None,
                additional_headers=self._headers(),
                open_timeout=self.timeout,
            ).__enter__()  # websockets >= 17.1 wants context-managed connections; close() ends it
            self._conns[slot] = conn
            meta = conn.recv(timeout=self.timeout)
            if isinstance(meta, str):
                raise _error_from_text(meta)
            self.metadata = unpackb(meta)
        return conn

    def _recv(self, conn: ws_client.ClientConnection) -> dict[str, Any]:
        reply = conn.recv(timeout=self.timeout)
        if isinstance(reply, str):
            raise _error_from_text(reply)
        return unpackb(reply)

    # ---- HTTP -----------------------------------------------------------------------------
    def _http(self, path: str, body: str | None = None) -> Any:
        request = urllib.request.Request(
            self.http_base + path,
            data=None if body is None else body.encode(),
            headers={"Content-Type": "application/json", **self._headers()},
            method="GET" if body is None else "POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json_loads(response.read())
        except urllib.error.HTTPError as err:
            raise _error_from_text(err.read().decode(errors="replace")) from None

    @property
    def http_base(self) -> str:
        return self.url.replace("ws://", "http://", 1).replace("wss://", "https://", 1)

    def _fetch_metadata(self) -> dict[str, Any]:
        if self.is_websocket:
            self._conn(0)
            return self.metadata
        return self._http("/metadata")

    # ---- policy interface -----------------------------------------------------------------
    @staticmethod
    def _payload(obs: dict[str, Any]) -> dict[str, Any]:
        return {k: obs[k] for k in SENT_KEYS if k in obs}

    def infer_chunks(self, observations: Sequence[dict[str, Any]]) -> np.ndarray:
        """(B, T, D) action chunks for B observations (``env_slot`` picks the connection)."""
        if not observations:
            raise ValueError("infer_chunks: empty batch")
        if self.is_websocket:
            slots = [int(o.get("env_slot", 0)) for o in observations]
            if len(set(slots)) != len(slots):
                raise ValueError(f"infer_batch: duplicate env_slot values {slots}")
            conns = [self._conn(s) for s in slots]
            for conn, obs in zip(conns, observations, strict=True):
                conn.send(packb(self._payload(obs)))
            replies: list[Any] = []
            for conn in conns:  # read every reply before raising, so no connection is left behind
                try:
                    replies.append(self._recv(conn))
                except RemotePolicyError as err:
                    replies.append(err)
            for r in replies:
                if isinstance(r, Exception):
                    raise r
            chunks = [np.asarray(r["actions"]) for r in replies]
        else:
            bodies = [json_dumps(self._payload(o)) for o in observations]
            if len(bodies) == 1:
                replies = [self._http("/infer", bodies[0])]
            else:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="rt2-client")
                replies = list(self._pool.map(lambda b: self._http("/infer", b), bodies))
            chunks = [np.asarray(r["actions"]) for r in replies]
        self.last_actions = np.stack(chunks)  # (B, T, D)
        return self.last_actions

    def infer_batch(self, observations: Sequence[dict[str, Any]]) -> np.ndarray:
        """(B, D): the first action of each chunk."""
        return self.infer_chunks(observations)[:, 0]

    def infer(self, obs: dict[str, Any]) -> np.ndarray:
        return self.infer_batch([obs])[0]

    def start_episode(self, slot: int, seed: int) -> None:
        """Tell the server that ``slot``'s connection starts an episode (websocket only)."""
        if self.is_websocket:
            conn = self._conn(slot)
            conn.send(packb({CONTROL_KEY: "reset", "seed": int(seed)}))
            self._recv(conn)

    def reset(self) -> None:
        for slot in list(self._conns):
            self.start_episode(slot, 0)

    def close(self) -> None:
        for conn in self._conns.values():
            conn.close()
        self._conns.clear()
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def __enter__(self) -> PolicyClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()
