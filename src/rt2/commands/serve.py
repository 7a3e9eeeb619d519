"""``rt2 serve``: serve a checkpoint to robots (openpi websocket protocol + OpenVLA ``/act``)."""

from __future__ import annotations

import argparse

HELP = "Serve a trained policy over websocket (openpi msgpack) and HTTP POST /act (OpenVLA)."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, help="checkpoint or run directory")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default: loopback)")
    parser.add_argument("--port", type=int, default=8000, help="port (0: any free port)")
    parser.add_argument("--max-batch", type=int, default=16, help="requests per forward pass")
    parser.add_argument(
        "--max-wait-ms", type=float, default=5.0, help="how long a request waits for others"
    )
    parser.add_argument(
        "--token", default=None, help="require 'Authorization: Api-Key TOKEN' (or Bearer)"
    )
    parser.add_argument("--max-payload-mb", type=float, default=16.0, help="request size limit")
    parser.add_argument(
        "--action-horizon", type=int, default=None, help="return at most this many chunk steps"
    )
    parser.add_argument("--threads", type=int, default=None, help="torch threads for the policy")
    parser.add_argument(
        "--compile",
        action="store_true",
        help="torch.compile the VLA (rt2-mini, hf) and warm it up before serving (~1-2 min)",
    )


def run(args: argparse.Namespace) -> int:
    import contextlib
    import logging

    import torch

    from rt2.serving import ServeConfig, load_served_policy, serve

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    config = ServeConfig(
        host=args.host,
        port=args.port,
        max_batch=args.max_batch,
        max_wait_ms=args.max_wait_ms,
        token=args.token,
        max_payload_mb=args.max_payload_mb,
        action_horizon=args.action_horizon,
    )
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    policy, metadata = load_served_policy(args.checkpoint, compile=args.compile)
    # uvicorn re-raises the SIGINT it handled once shutdown is complete: that is a clean exit
    with contextlib.suppress(KeyboardInterrupt):
        serve(policy, metadata, config)
    return 0
