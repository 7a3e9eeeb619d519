"""Sub-commands of the ``rt2`` CLI (see :mod:`rt2.cli`)."""
