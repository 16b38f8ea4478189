"""What a build is asked to do, checked once: the zoo, the folder, the slice and the
resources.

:class:`BuildRequest` validates every value when it is made and names the value at
fault (``TinyZooError``, one line). It imports no training code, so a bad request is
refused in a fraction of a second; :func:`zoo_builder.build.run_build` carries a valid
one out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from zoo_data.errors import TinyZooError
from zoo_data.rnn.presets import ZooConfig, get_preset

__all__ = ["BACKENDS", "BuildRequest", "parse_shard", "parse_models"]

#: ``"local"``: this process (every local device); ``"ray"``: one Ray task per group.
BACKENDS = ("local", "ray")


def parse_shard(text: str) -> tuple[int, int]:
    """``"i/N"`` with ``0 <= i < N`` -> ``(i, N)``; ``TinyZooError`` naming the value
    otherwise."""
    head, sep, tail = text.partition("/")
    if not sep or not head.strip().isdigit() or not tail.strip().isdigit():
        raise TinyZooError(f"shard {text!r}: expected i/N, e.g. 0/4")
    i, n = int(head), int(tail)
    if n < 1 or not 0 <= i < n:
        raise TinyZooError(f"shard {text!r}: need 0 <= i < N")
    return i, n


def parse_models(text: str, num_models: int) -> tuple[int, int]:
    """``"a:b"`` -> ``(a, b)`` with ``0 <= a < b <= num_models`` (either end may be left
    out); ``TinyZooError`` naming the value otherwise."""
    head, sep, tail = text.partition(":")
    try:
        a = int(head) if head.strip() else 0
        b = int(tail) if tail.strip() else num_models
    except ValueError:
        raise TinyZooError(f"models {text!r}: expected a:b, e.g. 0:100") from None
    if not sep or not 0 <= a < b <= num_models:
        raise TinyZooError(f"models {text!r}: need 0 <= a < b <= {num_models} (the zoo's size)")
    return a, b


@dataclass(frozen=True)
class BuildRequest:
    """A build of ``config``'s zoo (or a slice of it) into the folder ``out``.

    Attributes:
      out: the zoo folder (a local or shared-filesystem path, never a URL).
      config: the zoo's config.
      shard: ``(i, N)``: only every N-th training group from i on; ``None``: all.
      models: ``(a, b)``: only the groups holding models ``a .. b-1``; ``None``: all.
      workers: local: groups trained at once (default 1); ray without ``address``: CPUs
        of the local Ray instance (default: all).
      devices: local: shard each group over the first N local devices (default: all).
      backend: one of :data:`BACKENDS`.
      address, cpus_per_task, gpus_per_task: ray only: the cluster to join (default: a
        local instance) and each task's resources.

    Raises:
      TinyZooError: naming the first value that is out of range or that does not go
        with the backend.
    """

    out: Path
    config: ZooConfig
    shard: tuple[int, int] | None = None
    models: tuple[int, int] | None = None
    workers: int | None = None
    devices: int | None = None
    backend: str = "local"
    address: str | None = None
    cpus_per_task: float = 1.0
    gpus_per_task: float = 0.0

    def __post_init__(self) -> None:
        if "://" in str(self.out):
            raise TinyZooError(f"out {str(self.out)!r}: give a local or shared-filesystem "
                               "path (URLs are not supported for building)")
        object.__setattr__(self, "out", Path(self.out))
        if self.backend not in BACKENDS:
            raise TinyZooError(f"backend {self.backend!r}: choose {' or '.join(BACKENDS)}")
        if self.shard is not None:
            i, n = self.shard
            if n < 1 or not 0 <= i < n:
                raise TinyZooError(f"shard {i}/{n}: need 0 <= i < N")
        if self.models is not None:
            a, b = self.models
            if not 0 <= a < b <= self.config.num_models:
                raise TinyZooError(f"models {a}:{b}: need 0 <= a < b <= "
                                   f"{self.config.num_models} (the zoo's size)")
        if self.workers is not None and self.workers < 1:
            raise TinyZooError(f"workers {self.workers}: need at least 1")
        if self.devices is not None and self.devices < 1:
            raise TinyZooError(f"devices {self.devices}: need at least 1")
        if self.cpus_per_task <= 0 or self.gpus_per_task < 0:
            raise TinyZooError(f"cpus_per_task {self.cpus_per_task} / gpus_per_task "
                               f"{self.gpus_per_task}: need cpus > 0 and gpus >= 0")
        if self.backend == "local":
            ray_only = {"address": self.address is not None,
                        "cpus_per_task": self.cpus_per_task != 1.0,
                        "gpus_per_task": self.gpus_per_task != 0.0}
            first = next((k for k, v in ray_only.items() if v), None)
            if first is not None:
                raise TinyZooError(f"{first} {getattr(self, first)!r}: only with the ray "
                                   "backend")
        elif self.devices is not None:
            raise TinyZooError(f"devices {self.devices}: not with the ray backend (give "
                               "gpus_per_task instead)")

    @classmethod
    def parse(cls, preset: str, out: str, shard: str | None = None,
              models: str | None = None, **options) -> BuildRequest:
        """A request from text as a user types it: a preset name, ``"i/N"``, ``"a:b"``;
        ``options`` are the remaining fields."""
        config = get_preset(preset)
        return cls(
            out=out, config=config,
            shard=parse_shard(shard) if shard is not None else None,
            models=parse_models(models, config.num_models) if models is not None else None,
            **options,
        )
