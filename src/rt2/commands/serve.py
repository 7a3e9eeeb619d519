"""``rt2 serve``: serve a checkpoint to robots (openpi websocket protocol + OpenVLA ``/act``)."""

from __future__ import annotations

import argparse

HELP = "Serve a trained policy over websocket (openpi msgpack) and HTTP POST /act (OpenVLA)."

EPILOG = """limits on slow and idle clients: an HTTP request head must arrive within
--header-timeout seconds (a new connection's first request too), its body within
--body-timeout seconds after the head, and an idle keep-alive connection closes after
--keep-alive seconds; a late client gets 408 and is closed. One client address holds at most
--max-connections-per-client connections (websockets included), the server at most
--max-connections; past either, a new connection gets 503 too_many_connections. Websockets
are pinged every 20 s and closed when a ping goes unanswered for 20 s. GET /healthz counts
every refusal by reason."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
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
        "--header-timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds for a request head to arrive (default 10)",
    )
    parser.add_argument(
        "--body-timeout",
        type=float,
        default=30.0,
        metavar="S",
        help="seconds for a request body to arrive after its head (default 30; raise it for "
        "large payloads over slow links)",
    )
    parser.add_argument(
        "--keep-alive",
        type=float,
        default=5.0,
        metavar="S",
        help="seconds an idle keep-alive HTTP connection stays open (default 5)",
    )
    parser.add_argument(
        "--max-connections",
        type=int,
        default=1000,
        metavar="N",
        help="open connections in all (default 1000)",
    )
    parser.add_argument(
        "--max-connections-per-client",
        type=int,
        default=128,
        metavar="N",
        help="open connections per client address (default 128; one per env slot for "
        "`rt2 eval --policy ws://`)",
    )
    parser.add_argument(
        "--log-level",
        default="warning",
        choices=("debug", "info", "warning", "error"),
        help="info logs every refused request and connection (default warning)",
    )
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

    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()), format="%(asctime)s %(name)s: %(message)s"
    )
    config = ServeConfig(
        host=args.host,
        port=args.port,
        max_batch=args.max_batch,
        max_wait_ms=args.max_wait_ms,
        token=args.token,
        max_payload_mb=args.max_payload_mb,
        action_horizon=args.action_horizon,
        header_timeout_s=args.header_timeout,
        body_timeout_s=args.body_timeout,
        keep_alive_s=args.keep_alive,
        max_connections=args.max_connections,
        max_connections_per_client=args.max_connections_per_client,
    )
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    policy, metadata = load_served_policy(args.checkpoint, compile=args.compile)
    # uvicorn re-raises the SIGINT it handled once shutdown is complete: that is a clean exit
    with contextlib.suppress(KeyboardInterrupt):
        serve(policy, metadata, config)
    return 0
