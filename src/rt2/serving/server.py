"""The policy server: one port, websocket + msgpack-numpy (openpi) and HTTP JSON (OpenVLA).

Routes::

    ws  /            openpi protocol: metadata on connect, then obs -> {"actions": (T, D), ...}
    ws  /ws          the same
    POST /act        OpenVLA deploy-server protocol: json-numpy obs -> json-numpy action (D,)
    POST /infer      json-numpy obs -> {"actions": (T, D), "server_timing": {...}}
    GET  /healthz    {"status": "ok", counters, "rejected": {reason: count}}
    GET  /metadata   action space, image size, stats, model name (JSON)

Built on Starlette + uvicorn (``websockets-sansio`` protocol): one asyncio server speaks HTTP/1.1
and websockets on the same port, with a parser that answers garbage with 400 and closes oversized
websocket frames, so no hand-written HTTP parsing sits in front of the network. Bad requests get a
clear error (websocket: a JSON text frame ``{"error", "message"}``, which openpi's client raises as
``RuntimeError``; HTTP: the matching status code) and the connection keeps serving.

Slow and idle HTTP clients are cut by :mod:`rt2.serving.guard` (request head within
``header_timeout_s``, body within ``body_timeout_s``, idle keep-alive ``keep_alive_s``) and one
client address holds at most ``max_connections_per_client`` connections, so a slow client cannot
starve the others. ``/healthz`` counts every refusal by reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import socket
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import uvicorn
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from rt2.serving.batching import BatchConfig, Batcher, SlotPool
from rt2.serving.guard import ConnectionGuard, ConnectionLimits, guarded_protocol
from rt2.serving.protocol import (
    CONTROL_KEY,
    ObservationLimits,
    ObservationSpec,
    RequestError,
    json_dumps,
    json_loads,
    packb,
    parse_control,
    unpackb,
    validate_observation,
)

log = logging.getLogger("rt2.serve")


@dataclass(frozen=True)
class ServeConfig:
    """Where to listen and what to accept. ``host`` stays on loopback unless told otherwise."""

    host: str = "127.0.0.1"
    port: int = 8000
    max_batch: int = 16
    max_wait_ms: float = 5.0
    token: str | None = None
    max_payload_mb: float = 16.0
    action_horizon: int | None = None  # cut returned chunks to this many steps
    limits: ObservationLimits = field(default_factory=ObservationLimits)
    header_timeout_s: float = 10.0  # a request head must arrive within this
    body_timeout_s: float = 30.0  # its body within this after the head
    keep_alive_s: float = 5.0  # an idle keep-alive connection is closed after this
    max_connections: int = 1000  # open connections (HTTP and websocket) in all
    max_connections_per_client: int = 128  # ... and per client address

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError(f"ServeConfig.port: expected 0..65535, got {self.port}")
        if not 0 < self.max_payload_mb <= 1024:
            raise ValueError(
                f"ServeConfig.max_payload_mb: expected in (0, 1024], got {self.max_payload_mb}"
            )
        if self.token is not None and not self.token:
            raise ValueError("ServeConfig.token: empty; use None for no authentication")
        if self.action_horizon is not None and self.action_horizon < 1:
            raise ValueError(
                f"ServeConfig.action_horizon: expected >= 1, got {self.action_horizon}"
            )
        BatchConfig(self.max_batch, self.max_wait_ms)  # validates both
        try:
            _ = self.connection_limits  # validates the deadlines and caps
        except ValueError as err:  # name this class's fields
            message = str(err).replace("max_per_client", "max_connections_per_client")
            raise ValueError(message.replace("ConnectionLimits.", "ServeConfig.")) from None

    @property
    def connection_limits(self) -> ConnectionLimits:
        return ConnectionLimits(
            header_timeout_s=self.header_timeout_s,
            body_timeout_s=self.body_timeout_s,
            keep_alive_s=self.keep_alive_s,
            max_connections=self.max_connections,
            max_per_client=self.max_connections_per_client,
        )

    @property
    def max_payload(self) -> int:
        return int(self.max_payload_mb * 1024 * 1024)


def _error_response(err: RequestError) -> JSONResponse:
    return JSONResponse(err.to_dict(), status_code=err.status)


class _ClientGoneError(Exception):
    """The client hung up before its body arrived (the guard logs and counts it)."""


class PolicyApp:
    """The ASGI application around one policy (``infer_batch`` / ``infer``, optional hooks)."""

    def __init__(self, policy: Any, metadata: dict[str, Any], config: ServeConfig) -> None:
        self.policy = policy
        self.metadata = {**metadata, "max_batch": config.max_batch, "protocol": "rt2-serve/1"}
        self.config = config
        self.obs_spec = ObservationSpec.from_metadata(metadata)  # cameras and state it reads
        self.slots = SlotPool()
        self.batcher: Batcher | None = None
        self.guard = ConnectionGuard(config.connection_limits)  # refusals by reason
        self.app = Starlette(
            routes=[
                WebSocketRoute("/", self.websocket),
                WebSocketRoute("/ws", self.websocket),
                Route("/act", self.act, methods=["POST"]),
                Route("/infer", self.infer, methods=["POST"]),
                Route("/healthz", self.healthz, methods=["GET"]),
                Route("/metadata", self.get_metadata, methods=["GET"]),
            ],
            lifespan=self._lifespan,
        )

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self.batcher = Batcher(
            self.policy,
            BatchConfig(self.config.max_batch, self.config.max_wait_ms),
            self.config.action_horizon,
        )
        self.batcher.start()
        try:
            yield
        finally:
            await self.batcher.stop()
            log.info("policy server stopped")

    # ---- shared ---------------------------------------------------------------------------
    def _authorized(self, headers: Any) -> bool:
        if self.config.token is None:
            return True
        given = headers.get("authorization", "")
        for prefix in ("Api-Key ", "Bearer "):  # openpi-client sends "Api-Key <key>"
            if given.startswith(prefix):
                given = given[len(prefix) :]
                break
        given = given or headers.get("x-api-key", "")
        return hmac.compare_digest(given.encode(), self.config.token.encode())

    def _refused(self, where: str, err: RequestError) -> RequestError:
        self.guard.rejected[err.kind] += 1
        log.info("%s: %s: %s", where, err.kind, err.message)
        return err

    def _unauthorized(self) -> RequestError:
        return RequestError(
            "unauthorized", "missing or wrong token: send 'Authorization: Api-Key <token>'"
        )

    async def _start_episode(self, slot: int, seed: int) -> None:
        assert self.batcher is not None
        hook = getattr(self.policy, "start_episode", None)
        if hook is not None:
            await self.batcher.call(hook, slot, seed)
        else:
            await self.batcher.call(self.policy.reset)

    async def _act(self, raw: Any, slot: int) -> tuple[np.ndarray, dict[str, float]]:
        assert self.batcher is not None
        obs = validate_observation(raw, self.config.limits, self.obs_spec)
        obs["env_slot"] = slot
        return await self.batcher.submit(obs)

    # ---- websocket (openpi) ---------------------------------------------------------------
    async def websocket(self, ws: WebSocket) -> None:
        if not self._authorized(ws.headers):
            err = self._refused("websocket", self._unauthorized())
            await ws.send_denial_response(_error_response(err))
            return
        await ws.accept()
        assert self.batcher is not None
        slot = self.slots.acquire()
        self.batcher.clients += 1
        try:
            if hasattr(self.policy, "start_episode"):
                await self._start_episode(slot, 0)
            await ws.send_bytes(packb(self.metadata))
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    reply = await self._ws_message(message, slot)
                except RequestError as err:
                    await ws.send_text(self._refused(f"websocket slot {slot}", err).to_text())
                    continue
                except Exception as err:  # a bug of ours: report it, keep the connection
                    log.exception("websocket slot %d: unexpected error", slot)
                    reply_err = RequestError("inference_error", f"{type(err).__name__}: {err}")
                    await ws.send_text(reply_err.to_text())
                    continue
                await ws.send_bytes(packb(reply))
        except (WebSocketDisconnect, RuntimeError):
            pass  # client went away mid-reply
        finally:
            self.batcher.clients -= 1
            self.slots.release(slot)

    async def _ws_message(self, message: dict[str, Any], slot: int) -> dict[str, Any]:
        data = message.get("bytes")
        if data is None:
            raise RequestError("decode_error", "expected a binary msgpack frame, got a text frame")
        if len(data) > self.config.max_payload:
            raise RequestError(
                "payload_too_large",
                f"message of {len(data)} bytes exceeds the limit of {self.config.max_payload} bytes",
            )
        raw = unpackb(data)
        if isinstance(raw, dict) and CONTROL_KEY in raw:
            _, seed = parse_control(raw)
            await self._start_episode(slot, seed)
            return {"ok": True, "slot": slot}
        actions, timing = await self._act(raw, slot)
        return {"actions": actions, "server_timing": timing}

    # ---- HTTP (OpenVLA) -------------------------------------------------------------------
    async def _read_json(self, request: Request) -> Any:
        if not self._authorized(request.headers):
            raise self._unauthorized()
        limit = self.config.max_payload
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise RequestError(
                "payload_too_large", f"body of {declared} bytes exceeds the limit of {limit} bytes"
            )
        body = bytearray()
        try:
            async for chunk in request.stream():
                body += chunk
                if len(body) > limit:
                    raise RequestError(
                        "payload_too_large", f"body exceeds the limit of {limit} bytes"
                    )
        except ClientDisconnect as err:
            raise _ClientGoneError from err
        return json_loads(bytes(body))

    async def _http_act(self, request: Request) -> tuple[np.ndarray, dict[str, float]]:
        assert self.batcher is not None
        self.batcher.clients += 1
        slot = self.slots.acquire()
        try:
            raw = await self._read_json(request)
            if hasattr(self.policy, "start_episode"):  # HTTP is stateless: a fresh episode
                await self._start_episode(slot, 0)
            return await self._act(raw, slot)
        finally:
            self.slots.release(slot)
            self.batcher.clients -= 1

    async def act(self, request: Request) -> Response:
        """OpenVLA's ``/act``: the first action (D,) as json-numpy."""
        try:
            actions, _ = await self._http_act(request)
        except RequestError as err:
            return _error_response(self._refused("/act", err))
        except _ClientGoneError:
            return Response(status_code=400)  # nobody reads it
        return Response(json_dumps(actions[0]), media_type="application/json")

    async def infer(self, request: Request) -> Response:
        """The full reply: ``{"actions": (T, D), "server_timing": ...}`` as json-numpy."""
        try:
            actions, timing = await self._http_act(request)
        except RequestError as err:
            return _error_response(self._refused("/infer", err))
        except _ClientGoneError:
            return Response(status_code=400)  # nobody reads it
        return Response(
            json_dumps({"actions": actions, "server_timing": timing}), media_type="application/json"
        )

    async def healthz(self, request: Request) -> Response:
        """Counters: ``requests``/``batches``/``errors`` (failed forward passes) of the model,
        ``rejected``: requests and connections refused before the model, by reason (the error
        kinds of :data:`~rt2.serving.protocol.ERROR_STATUS`, ``header_timeout``,
        ``body_timeout``, ``idle_timeout``, ``client_disconnected``, ``bad_http``)."""
        assert self.batcher is not None
        s = self.batcher.stats
        rejected = dict(sorted(self.guard.rejected.items()))
        return JSONResponse(
            {
                "status": "ok",
                "requests": s.requests,
                "batches": s.batches,
                "errors": s.errors,
                "rejected": rejected,
                "rejected_total": sum(rejected.values()),
                "largest_batch": s.largest_batch,
                "clients": self.batcher.clients,
                "connections": self.guard.open,
            }
        )

    async def get_metadata(self, request: Request) -> Response:
        if not self._authorized(request.headers):
            return _error_response(self._refused("/metadata", self._unauthorized()))
        return Response(json_dumps(self.metadata), media_type="application/json")


# ---- running ------------------------------------------------------------------------------
def bind_socket(host: str, port: int) -> socket.socket:
    """A bound, listening socket (port 0 picks a free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)  # connections queue from here on, even before the server loop runs
    sock.set_inheritable(True)
    return sock


def make_server(policy: Any, metadata: dict[str, Any], config: ServeConfig) -> uvicorn.Server:
    """A uvicorn server for ``policy`` (not started)."""
    app = PolicyApp(policy, metadata, config)
    uv_config = uvicorn.Config(
        app.app,
        http=guarded_protocol(app.guard),  # h11 + deadlines for slow clients + connection caps
        ws="websockets-sansio",
        ws_max_size=config.max_payload
        + 1024 * 1024,  # frames a bit over the limit get an error reply
        ws_per_message_deflate=False,
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        lifespan="on",
        log_level="warning",
        timeout_graceful_shutdown=5,
        timeout_keep_alive=config.keep_alive_s,  # type: ignore[arg-type]
        limit_concurrency=None,  # the guard caps connections, in all and per client address
        access_log=False,
    )
    return uvicorn.Server(uv_config)


def serve(policy: Any, metadata: dict[str, Any], config: ServeConfig) -> None:
    """Serve until SIGINT/SIGTERM (uvicorn handles them: it stops accepting, closes websockets
    with 1012, drains, then runs the lifespan shutdown that joins the policy thread)."""
    server = make_server(policy, metadata, config)
    sock = bind_socket(config.host, config.port)
    host, port = sock.getsockname()[:2]
    log.warning(
        "rt2 policy server on ws://%s:%d (POST /act, GET /healthz, GET /metadata)", host, port
    )
    asyncio.run(server.serve(sockets=[sock]))


class BackgroundServer:
    """A server on its own thread and event loop (tests, benchmarks, notebooks)."""

    def __init__(self, policy: Any, metadata: dict[str, Any], config: ServeConfig) -> None:
        self.config = config
        self.server = make_server(policy, metadata, config)
        self._sock = bind_socket(config.host, config.port)
        self.host, self.port = self._sock.getsockname()[:2]
        self._thread = threading.Thread(target=self._run, name="rt2-serve", daemon=True)

    def _run(self) -> None:
        asyncio.run(self.server.serve(sockets=[self._sock]))

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 20.0) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("policy server failed to start")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 20.0) -> None:
        self.server.should_exit = True
        self._thread.join(timeout)
        self._sock.close()
        if self._thread.is_alive():
            raise RuntimeError("policy server thread did not stop")

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
