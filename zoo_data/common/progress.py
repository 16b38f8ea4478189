"""Progress of long loops (builds, benchmarks, exports, downloads): a tqdm bar on a
terminal, plain lines in a log.

:func:`progress_bar` is the one place the project makes a progress display. It writes
to ``sys.stderr`` (never stdout, which holds a command's result) and picks:

- a tqdm bar (with rate and ETA) when stderr is a terminal or a Jupyter kernel;
- plain lines when it is not (CI logs, ``2> file``, pipes): no carriage returns, no
  ANSI codes. Lines come from :meth:`Progress.write` (one per finished unit, e.g. a
  seed); besides, a status line when the work begins, each time another
  ``line_every`` fraction of ``total`` is done, and after ``heartbeat_s`` seconds
  without any line, so a log never stays silent for long. A status line reads
  ``building mini zoo: 40/200 models (20%), elapsed 02:13, ETA 08:52``;
- nothing at all when ``enabled`` is false (``--quiet``).

``TINYZOO_PROGRESS=bars`` or ``=lines`` overrides the choice between the first two.

Every kind answers the same calls: ``update(n)``, ``n`` (read and set) with
``refresh()``, ``set_description``, ``set_postfix``, ``write(line)`` and ``close()``
(or a ``with`` block).
"""

from __future__ import annotations

import os
import sys
import time
from typing import IO, Any

__all__ = ["PROGRESS_ENV", "Progress", "progress_bar", "use_bars", "format_seconds"]

#: Environment variable forcing ``bars`` or ``lines`` (otherwise: bars on a terminal).
PROGRESS_ENV = "TINYZOO_PROGRESS"


def format_seconds(seconds: float) -> str:
    """``seconds`` as ``MM:SS`` or ``H:MM:SS`` (tqdm's style)."""
    seconds = max(0, int(round(seconds)))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:d}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def _in_kernel() -> bool:
    ipython = sys.modules.get("IPython")
    if ipython is None or "ipykernel" not in sys.modules:
        return False
    try:
        shell = ipython.get_ipython()
        return shell is not None and "IPKernelApp" in shell.config
    except Exception:  # an odd IPython: plain lines are always safe
        return False


def use_bars(stream: IO[str] | None = None) -> bool:
    """Whether progress on ``stream`` (default ``sys.stderr``) is drawn as a bar (a
    terminal or a Jupyter kernel, or ``TINYZOO_PROGRESS=bars``) or written as lines."""
    forced = os.environ.get(PROGRESS_ENV, "").strip().lower()
    if forced in ("bars", "lines"):
        return forced == "bars"
    stream = sys.stderr if stream is None else stream
    try:
        if stream.isatty():
            return True
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
    return _in_kernel()


class Progress:
    """The common face of the three kinds (module docstring); this base does nothing
    (``enabled`` false)."""

    def __init__(self, total: float | None = None, initial: float = 0) -> None:
        self.total = total
        self._n = initial

    @property
    def n(self) -> float:
        return self._n

    @n.setter
    def n(self, value: float) -> None:
        self._n = value

    def update(self, n: float = 1) -> None:
        self.n = self.n + n
        self.refresh()

    def refresh(self) -> None:
        pass

    def set_description(self, desc: str) -> None:
        pass

    def set_postfix(self, **values: Any) -> None:
        pass

    def write(self, line: str) -> None:
        pass

    def eta(self) -> str | None:
        """In line mode, the estimated time left (``MM:SS``) once something was done;
        ``None`` otherwise (a bar shows its own)."""
        return None

    def close(self) -> None:
        pass

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Bar(Progress):
    """A tqdm bar on stderr; :meth:`write` prints above it."""

    def __init__(self, total, initial, desc, unit, bar_format, stream) -> None:
        from tqdm.auto import tqdm

        self._tqdm = tqdm
        self._stream = stream
        self._bar = tqdm(total=total, initial=initial, desc=desc, unit=unit, file=stream,
                         bar_format=bar_format, dynamic_ncols=True)
        self.total = total

    @property
    def n(self) -> float:
        return self._bar.n

    @n.setter
    def n(self, value: float) -> None:
        self._bar.n = value

    def update(self, n: float = 1) -> None:
        self._bar.update(n)

    def refresh(self) -> None:
        self._bar.refresh()

    def set_description(self, desc: str) -> None:
        self._bar.set_description(desc, refresh=True)

    def set_postfix(self, **values: Any) -> None:
        self._bar.set_postfix(values)

    def write(self, line: str) -> None:
        self._tqdm.write(line, file=self._stream)

    def close(self) -> None:
        self._bar.close()


class _Lines(Progress):
    """Plain lines (module docstring): finished units, fractions of ``total`` and a
    heartbeat; nothing but printable text and newlines."""

    def __init__(self, total, initial, desc, unit, stream, line_every, heartbeat_s) -> None:
        super().__init__(total, initial)
        self.desc, self.unit, self._stream = desc, unit, stream
        self._every, self._heartbeat = line_every, heartbeat_s
        self._start_n, self._t0 = initial, time.monotonic()
        self._last_line = self._t0
        self._postfix = ""
        self._step = self._milestone(initial)
        self._emit(self.status())  # a first line: the work has begun

    def _milestone(self, n: float) -> int:
        if not self._every or not self.total:
            return 0
        return int(n / self.total / self._every + 1e-9)

    def _emit(self, line: str) -> None:
        print(line.replace("\r", " "), file=self._stream, flush=True)
        self._last_line = time.monotonic()

    def status(self) -> str:
        """``desc: n/total unit (p%), elapsed .., ETA ..[, postfix]``."""
        elapsed = time.monotonic() - self._t0
        n = self.n
        if self.unit == "B":
            count = f"{n / 2**20:,.1f}" + (f"/{self.total / 2**20:,.1f}" if self.total else "")
            count += " MiB"
        else:
            count = f"{n:,.0f}" + (f"/{self.total:,.0f}" if self.total else "")
            count += f" {self.unit}s"
        if self.total:
            count += f" ({100 * n / self.total:.0f}%)"
        line = f"{self.desc}: {count}, elapsed {format_seconds(elapsed)}"
        eta = self.eta()
        if eta is not None:
            line += f", ETA {eta}"
        return line + (f", {self._postfix}" if self._postfix else "")

    def eta(self) -> str | None:
        done = self.n - self._start_n
        if not self.total or done <= 0 or self.n >= self.total:
            return None
        elapsed = time.monotonic() - self._t0
        return format_seconds((self.total - self.n) * elapsed / done)

    def refresh(self) -> None:
        step = self._milestone(self.n)
        if step > self._step:
            self._step = step
            self._emit(self.status())
        elif time.monotonic() - self._last_line >= self._heartbeat:
            self._emit(self.status())

    def set_description(self, desc: str) -> None:
        self.desc = desc

    def set_postfix(self, **values: Any) -> None:
        self._postfix = ", ".join(f"{k}={v}" for k, v in values.items())

    def write(self, line: str) -> None:
        self._emit(line)


def progress_bar(
    total: float | None,
    desc: str,
    unit: str = "it",
    *,
    enabled: bool = True,
    initial: float = 0,
    bar_format: str | None = None,
    line_every: float | None = 0.1,
    heartbeat_s: float = 60.0,
    stream: IO[str] | None = None,
) -> Progress:
    """A progress display of ``total`` ``unit``s (``None``: unknown) on ``stream``
    (default ``sys.stderr``): a tqdm bar or plain lines (module docstring), or nothing
    if not ``enabled``.

    ``line_every``: in line mode, a status line each time this fraction of ``total`` is
    done (``None``: only :meth:`~Progress.write` lines and the heartbeat).
    ``bar_format`` is tqdm's, for the bar only."""
    if not enabled:
        return Progress(total, initial)
    stream = sys.stderr if stream is None else stream
    if use_bars(stream):
        return _Bar(total, initial, desc, unit, bar_format, stream)
    return _Lines(total, initial, desc, unit, stream, line_every, heartbeat_s)
