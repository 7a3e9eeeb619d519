"""Load test of ``rt2 serve`` on loopback: N concurrent clients, latency, throughput, memory.

The server runs as its own process (``python -m rt2.cli serve``, one torch thread) so the load
generator does not share its GIL. Each client is a real ``openpi-client`` websocket connection
(or an HTTP ``POST /act`` client) sending requests back to back. Every setting is bounded by
``--requests`` per client and ``--seconds``; the server's RSS is read from /proc before and after.

Run: ``.venv/bin/python benchmarks/bench_serve.py [--clients 1,4,16] [--requests 100]``
(default: a randomly initialised tiny VLA at 64 px; ``--checkpoint DIR`` to serve a trained one)
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore", message="connect\\(\\) must be used", category=DeprecationWarning)


def tiny_checkpoint(out: Path, image_size: int) -> Path:
    """A randomly initialised tiny VLA saved in the `rt2 train` layout."""
    import torch

    from rt2.model import build_vla
    from rt2.training.checkpoint import save_checkpoint
    from rt2.training.config import ModelConfig, TrainConfig

    opts = dict(
        image_size=image_size, patch_size=16, pool=1, vision_dim=64, vision_layers=2,
        vision_heads=2, lm_dim=64, lm_layers=2, lm_heads=2,
    )  # fmt: skip
    torch.manual_seed(0)
    model = build_vla("tiny", "language_table", **opts)
    config = TrainConfig(name="bench", model=ModelConfig(backbone_options=opts, bounds="fixed"))
    files = {"config.json": config.to_dict(), "vla.json": model.spec(), "stats.json": {}}
    return save_checkpoint(out, 0, model, files)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_server(
    checkpoint: Path, max_batch: int, max_wait_ms: float
) -> tuple[subprocess.Popen, int]:
    cmd = [sys.executable, "-m", "rt2.cli", "serve", "--checkpoint", str(checkpoint), "--port", "0"]
    cmd += ["--threads", "1", "--max-batch", str(max_batch), "--max-wait-ms", str(max_wait_ms)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stderr.readline()  # type: ignore[union-attr]
        if "policy server on" in line:
            return proc, int(re.search(r":(\d+) ", line).group(1))  # type: ignore[union-attr]
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError("rt2 serve did not start")


def run_load(
    port: int, protocol: str, clients: int, requests: int, seconds: float, image_size: int
) -> dict[str, float]:
    """``clients`` threads, each sending up to ``requests`` requests for at most ``seconds``."""
    import json_numpy
    from openpi_client.websocket_client_policy import WebsocketClientPolicy

    rng = np.random.default_rng(0)
    obs = {
        "image": rng.integers(0, 256, (image_size, image_size, 3), dtype=np.uint8),
        "instruction": "push the red star to the top left corner",
        "state": np.zeros(4, np.float32),
    }
    body = json_numpy.dumps(obs).encode()
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    barrier = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def worker(i: int) -> None:
        ws = WebsocketClientPolicy(host="127.0.0.1", port=port) if protocol == "ws" else None
        barrier.wait()
        for _ in range(requests):
            if time.perf_counter() > stop_at[0]:
                break
            t0 = time.perf_counter()
            try:
                if ws is not None:
                    reply = ws.infer(obs)
                    ok = reply["actions"].shape[-1] == 2
                else:
                    req = urllib.request.Request(
                        f"http://127.0.0.1:{port}/act", data=body, method="POST"
                    )
                    with urllib.request.urlopen(req, timeout=30) as r:
                        ok = json_numpy.loads(r.read()).shape == (2,)
            except Exception:
                ok = False
            latencies[i].append(time.perf_counter() - t0)
            errors[i] += not ok
        if ws is not None:
            ws._ws.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    stop_at[0] = time.perf_counter() + seconds + 1e9  # set properly once everyone is connected
    barrier.wait()
    start = time.perf_counter()
    stop_at[0] = start + seconds
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    lat = np.array([x for xs in latencies for x in xs]) * 1000
    return {
        "requests": float(lat.size),
        "errors": float(sum(errors)),
        "p50_ms": float(np.percentile(lat, 50)),
        "p99_ms": float(np.percentile(lat, 99)),
        "throughput": lat.size / wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=None)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--clients", default="1,4,16", help="comma-separated client counts")
    parser.add_argument("--requests", type=int, default=100, help="requests per client (cap)")
    parser.add_argument("--seconds", type=float, default=15.0, help="time cap per setting")
    parser.add_argument("--protocols", default="ws,http")
    parser.add_argument("--repeats", type=int, default=3, help="measured sweeps (memory check)")
    parser.add_argument("--max-batch", type=int, default=16)
    parser.add_argument("--max-wait-ms", type=float, default=5.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        ckpt = args.checkpoint or tiny_checkpoint(Path(tmp), args.image_size)
        proc, port = start_server(ckpt, args.max_batch, args.max_wait_ms)
        try:
            sweep = [
                (p, int(c)) for p in args.protocols.split(",") for c in args.clients.split(",")
            ]
            for protocol, n in sweep:  # warm-up sweep: allocator caches reach their steady size
                run_load(port, protocol, n, args.requests, args.seconds, args.image_size)
            rss_start = rss_mb(proc.pid)
            rows = []
            for protocol, n in sweep:
                r = run_load(port, protocol, n, args.requests, args.seconds, args.image_size)
                rows.append((protocol, n, r, rss_mb(proc.pid)))
            rss_sweeps = [rss_mb(proc.pid)]
            for _ in range(args.repeats - 1):  # the same load again: memory must stay flat
                for protocol, n in sweep:
                    run_load(port, protocol, n, args.requests, args.seconds, args.image_size)
                rss_sweeps.append(rss_mb(proc.pid))
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz") as r:
                health = r.read().decode()
        finally:
            proc.terminate()
            proc.wait(30)

    print(
        f"\nrt2 serve load test: {ckpt if args.checkpoint else 'tiny VLA'}, {args.image_size} px, "
    )
    print(f"1 torch thread, max-batch {args.max_batch}, max-wait {args.max_wait_ms} ms\n")
    print("| protocol | clients | requests | errors | p50 ms | p99 ms | req/s | server RSS MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for protocol, n, r, rss in rows:
        print(
            f"| {protocol} | {n} | {r['requests']:.0f} | {r['errors']:.0f} | {r['p50_ms']:.1f} | "
            f"{r['p99_ms']:.1f} | {r['throughput']:.1f} | {rss:.0f} |"
        )
    total_err = sum(r["errors"] for _, _, r, _ in rows)
    print(
        f"\nerrors: {total_err:.0f}; server RSS after warm-up {rss_start:.0f} MB, after each "
        f"measured sweep {', '.join(f'{x:.0f}' for x in rss_sweeps)} MB "
        f"(growth over {len(rss_sweeps)} sweeps: {rss_sweeps[-1] - rss_start:+.1f} MB)"
    )
    print(f"/healthz: {health}")


if __name__ == "__main__":
    main()
