"""The ``rt2`` command line: one sub-command per module in :mod:`rt2.commands`.

Each command module defines ``HELP`` (one line), ``configure(parser)`` and ``run(args) -> int``;
heavy imports happen inside ``run`` so ``rt2 --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# verb -> module; order is the order shown by ``rt2 --help``
COMMANDS: dict[str, str] = {
    "collect": "rt2.commands.collect",
    "train": "rt2.commands.train",
    "eval": "rt2.commands.evaluate",
    "eval-knowledge": "rt2.commands.eval_knowledge",
    "reproduce": "rt2.commands.reproduce",
    "bench": "rt2.commands.bench",
    "export": "rt2.commands.export",
    "demo": "rt2.commands.demo",
    "serve": "rt2.commands.serve",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rt2", description="RT-2 style Vision-Language-Action models on a laptop CPU."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for verb, module_name in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name != module_name:
                raise
            continue  # the verb is not built yet
        p = sub.add_parser(verb, help=module.HELP, description=module.HELP)
        module.configure(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args._run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
