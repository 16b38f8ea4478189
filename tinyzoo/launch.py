"""The ``tinyzoo`` console script and ``python -m tinyzoo``: start under tcmalloc where the
machine has it (:mod:`tinyzoo.allocator`), then run :func:`tinyzoo.cli.main`.

Kept apart from :mod:`tinyzoo.cli` so that the re-exec happens before the command
line's imports (typer, the commands, JAX), and so that calling :func:`tinyzoo.cli.main`
in a process (the tests do) never replaces that process.
"""

from __future__ import annotations

from tinyzoo.allocator import reexec_under_tcmalloc

__all__ = ["console_main"]


def console_main() -> int:
    """Re-exec under tcmalloc if :mod:`tinyzoo.allocator` says so, then run the CLI."""
    reexec_under_tcmalloc()
    from tinyzoo.cli import main

    return main()
