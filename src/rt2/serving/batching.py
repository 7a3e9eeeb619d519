"""Dynamic batching: requests that arrive together share one ``infer_batch`` forward pass.

The batcher collects requests from an asyncio queue until ``max_batch`` are waiting, every
connected client has a request in, or ``max_wait_ms`` passed since the first one, then runs the
policy on a single worker thread (the event loop stays free to read and answer sockets). While a
batch runs, new requests queue up and form the next batch. Policy calls (inference, resets,
``start_episode``) all go through that one thread, so the policy never sees two calls at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rt2.serving.protocol import RequestError


@dataclass(frozen=True)
class BatchConfig:
    """How long and how many requests to wait for before a forward pass."""

    max_batch: int = 16
    max_wait_ms: float = 5.0

    def __post_init__(self) -> None:
        if self.max_batch < 1:
            raise ValueError(f"BatchConfig.max_batch: expected >= 1, got {self.max_batch}")
        if not 0 <= self.max_wait_ms <= 10_000:
            raise ValueError(
                f"BatchConfig.max_wait_ms: expected in [0, 10000], got {self.max_wait_ms}"
            )


@dataclass
class BatchStats:
    """Counters for ``/healthz``."""

    requests: int = 0
    batches: int = 0
    errors: int = 0
    largest_batch: int = 0
    batch_sizes: dict[int, int] = field(default_factory=dict)


@dataclass
class _Pending:
    obs: dict[str, Any]
    future: asyncio.Future
    queued: float


def as_chunks(actions: Any, batch: int) -> np.ndarray:
    """A policy's output -> (B, T, D): (B, D) is one action per row, (B, T, D) a chunk."""
    arr = np.asarray(actions)
    if arr.ndim == 2:
        arr = arr[:, None, :]  # (B, 1, D)
    if arr.ndim != 3 or arr.shape[0] != batch:
        raise ValueError(f"policy returned actions of shape {arr.shape} for a batch of {batch}")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    return arr


class Batcher:
    """Owns the policy thread and the batching loop; use inside a running event loop."""

    def __init__(
        self,
        policy: Any,
        config: BatchConfig = BatchConfig(),
        action_horizon: int | None = None,
    ) -> None:
        self.policy = policy
        self.config = config
        self.action_horizon = action_horizon
        self.stats = BatchStats()
        self.clients = 0  # open connections + in-flight HTTP requests: no point waiting for more
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rt2-policy")
        self._task: asyncio.Task | None = None
        self._closed = False

    # ---- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="rt2-batcher")

    async def stop(self) -> None:
        """Stop batching, fail queued requests with ``shutting_down``, join the policy thread."""
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if not item.future.done():
                item.future.set_exception(RequestError("shutting_down", "server is shutting down"))
        await asyncio.get_running_loop().run_in_executor(None, self._executor.shutdown, True)

    # ---- requests -------------------------------------------------------------------------
    async def submit(self, obs: dict[str, Any]) -> tuple[np.ndarray, dict[str, float]]:
        """One validated observation -> (actions (T, D), timing in ms)."""
        if self._closed:
            raise RequestError("shutting_down", "server is shutting down")
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(obs, future, time.perf_counter()))
        return await future

    async def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args)`` on the policy thread (resets, ``start_episode``)."""
        if self._closed:
            raise RequestError("shutting_down", "server is shutting down")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    # ---- loop -----------------------------------------------------------------------------
    async def _collect(self) -> list[_Pending]:
        loop = asyncio.get_running_loop()
        batch = [await self._queue.get()]
        deadline = loop.time() + self.config.max_wait_ms / 1000
        while len(batch) < self.config.max_batch:
            try:
                batch.append(self._queue.get_nowait())
                continue
            except asyncio.QueueEmpty:
                pass
            remaining = deadline - loop.time()
            if remaining <= 0 or len(batch) >= self.clients:
                break  # waited long enough, or every client already has its request in
            try:
                batch.append(await asyncio.wait_for(self._queue.get(), remaining))
            except TimeoutError:
                break
        return batch

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [p for p in await self._collect() if not p.future.done()]  # drop cancelled
            if not batch:
                continue
            start = time.perf_counter()
            results = await loop.run_in_executor(
                self._executor, self._infer, [p.obs for p in batch]
            )
            infer_ms = 1000 * (time.perf_counter() - start)
            self.stats.batches += 1
            self.stats.largest_batch = max(self.stats.largest_batch, len(batch))
            self.stats.batch_sizes[len(batch)] = self.stats.batch_sizes.get(len(batch), 0) + 1
            for p, result in zip(batch, results, strict=True):
                self.stats.requests += 1
                if p.future.done():
                    continue
                if isinstance(result, Exception):
                    self.stats.errors += 1
                    p.future.set_exception(result)
                else:
                    timing = {
                        "infer_ms": infer_ms,
                        "queue_ms": 1000 * (start - p.queued),
                        "batch_size": float(len(batch)),
                    }
                    p.future.set_result((result, timing))

    def _infer(self, observations: list[dict[str, Any]]) -> list[np.ndarray | Exception]:
        """Policy thread: one forward pass per image shape; a failing group is retried per row."""
        results: list[np.ndarray | Exception] = [RuntimeError("not run")] * len(observations)
        groups: dict[tuple, list[int]] = {}
        for i, o in enumerate(observations):
            groups.setdefault(_shapes(o), []).append(i)
        for rows in groups.values():
            try:
                chunks = self._forward([observations[i] for i in rows])
                for i, chunk in zip(rows, chunks, strict=True):
                    results[i] = chunk
            except Exception as err:
                if len(rows) == 1:
                    results[rows[0]] = _inference_error(err)
                    continue
                for i in rows:  # isolate the bad row so the others still get actions
                    try:
                        results[i] = self._forward([observations[i]])[0]
                    except Exception as row_err:
                        results[i] = _inference_error(row_err)
        return results

    def _forward(self, observations: list[dict[str, Any]]) -> np.ndarray:
        batched = getattr(self.policy, "infer_batch", None)
        if batched is not None:
            out = batched(observations)
        else:
            out = np.stack([np.asarray(self.policy.infer(o)) for o in observations])
        chunks = as_chunks(out, len(observations))  # (B, T, D)
        if self.action_horizon is not None:
            chunks = chunks[:, : self.action_horizon]
        if not np.all(np.isfinite(chunks)):
            raise ValueError("policy produced non-finite actions")
        return chunks


def _shapes(obs: dict[str, Any]) -> tuple:
    """The image shapes of an observation (one camera or several by name): rows that share
    them share a forward pass."""
    images = obs.get("images")
    if isinstance(images, dict):
        return tuple(sorted((str(k), np.shape(v)) for k, v in images.items()))
    return tuple(np.shape(obs.get("image")))


def _inference_error(err: Exception) -> RequestError:
    return RequestError("inference_error", f"policy failed: {type(err).__name__}: {err}")


class SlotPool:
    """Small integer ids for connections: a stateful policy keeps one history per slot."""

    def __init__(self) -> None:
        self._free: list[int] = []
        self._next = 0

    def acquire(self) -> int:
        if self._free:
            self._free.sort()
            return self._free.pop(0)
        self._next += 1
        return self._next - 1

    def release(self, slot: int) -> None:
        self._free.append(slot)
