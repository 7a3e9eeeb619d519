"""The one markdown table writer of the reports (``rt2 eval``, ``rt2 reproduce``, ``rt2 demo``)."""

from __future__ import annotations

from collections.abc import Collection, Sequence


def markdown_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], right: Collection[int] = ()
) -> list[str]:
    """The lines of a markdown table, then a blank line; columns at indices ``right`` are
    right-aligned."""
    rule = "|" + "".join("---:|" if i in right else "---|" for i in range(len(header)))
    lines = ["| " + " | ".join(header) + " |", rule]
    return [*lines, *("| " + " | ".join(row) + " |" for row in rows), ""]
