"""The machine a result was computed on, as far as it decides the floating-point bits.

XLA compiles a predictor's training step for the host it runs on: the LLVM target (CPU
model and its instruction-set extensions), the kernels chosen at run time (XNNPACK,
Eigen's cache-size-dependent blocking), the number of threads the work is split over and
the library versions all choose summation orders, so the same code and seed give
bit-identical results only on the same kind of machine (``docs/BENCHMARKS.md``,
"Where the bits part"). A record therefore states :func:`machine_fingerprint`::

    {"id": "<12 hex>",              # sha256 of every other field, canonical JSON
     "cpu": "AMD EPYC", "vendor": "AuthenticAMD", "family": 26, "model": 2,
     "isa": ["avx", "avx2", "avx512f", ...],   # the vector extensions XLA may use
     "cache_kib": {"l1d": 48, "l2": 1024, "l3": 32768},
     "cores": 2,                     # CPUs this process may run on
     "backend": "cpu", "devices": ["cpu"],
     "jax": "0.10.2", "jaxlib": "0.10.2", "xla_flags": ""}

Two records with the same ``id`` were made on machines that must give the same bits
(``docs/LEADERBOARD_RULES.md``, "What a re-run promises").
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from pathlib import Path

from zoo_data.version import package_versions

__all__ = ["ISA_FLAGS", "MACHINE_KEYS", "machine_fingerprint", "machine_id", "machine_text"]

#: ``/proc/cpuinfo`` flags that change what XLA's CPU compiler and its kernels may emit.
ISA_FLAGS: tuple[str, ...] = (
    "sse4_1", "sse4_2", "avx", "avx2", "fma", "f16c", "avx_vnni",
    "avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl", "avx512ifma", "avx512vbmi",
    "avx512_vbmi2", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_bf16", "amx_tile",
    "amx_int8", "amx_fp16", "asimd", "sve", "sve2",
)

#: The fields of a fingerprint, ``id`` first.
MACHINE_KEYS: tuple[str, ...] = (
    "id", "cpu", "vendor", "family", "model", "isa", "cache_kib", "cores", "backend",
    "devices", "jax", "jaxlib", "xla_flags",
)


def _cpuinfo(text: str) -> dict:
    """The first processor's ``key: value`` lines of ``/proc/cpuinfo`` text."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                break
            continue
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return fields


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _cache_kib(root: Path = Path("/sys/devices/system/cpu/cpu0/cache")) -> dict:
    """``{"l1d", "l2", "l3"}`` sizes in KiB of CPU 0's caches (absent levels omitted)."""
    sizes: dict[str, int] = {}
    for index in sorted(root.glob("index*")):
        try:
            level = (index / "level").read_text().strip()
            kind = (index / "type").read_text().strip()
            size = (index / "size").read_text().strip()
        except OSError:
            continue
        if kind == "Instruction":
            continue
        name = "l1d" if level == "1" else f"l{level}"
        number = _int_or_none(size.rstrip("KkMm"))
        if number is not None:
            sizes[name] = number * 1024 if size[-1:] in "Mm" else number
    return sizes


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 0


def _backend() -> tuple[str, list[str]]:
    try:
        import jax

        devices = jax.devices()
        return jax.default_backend(), sorted({d.device_kind for d in devices})
    except Exception as exc:  # a broken accelerator setup is stated, not raised
        return f"unavailable ({type(exc).__name__})", []


def machine_id(fields: dict) -> str:
    """The first 12 hex digits of sha256 over ``fields`` without ``id`` (sorted JSON)."""
    body = {k: v for k, v in fields.items() if k != "id"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def machine_fingerprint(cpuinfo: str | None = None, cache_kib: dict | None = None,
                        cores: int | None = None, xla_flags: str | None = None) -> dict:
    """This machine's fingerprint (module docstring). The arguments replace what is read
    from the system (``/proc/cpuinfo`` text, cache sizes, usable cores, ``XLA_FLAGS``):
    tests use them to stand for another machine."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpuinfo = ""
    info = _cpuinfo(cpuinfo)
    flags = set(info.get("flags", info.get("Features", "")).split())
    backend, devices = _backend()
    versions = package_versions(("jax", "jaxlib"))
    fields = {
        "cpu": info.get("model name") or platform.processor() or platform.machine()
        or "unknown",
        "vendor": info.get("vendor_id") or info.get("CPU implementer") or "unknown",
        "family": _int_or_none(info.get("cpu family")),
        "model": _int_or_none(info.get("model")),
        "isa": [flag for flag in ISA_FLAGS if flag in flags],
        "cache_kib": _cache_kib() if cache_kib is None else dict(cache_kib),
        "cores": _cores() if cores is None else cores,
        "backend": backend,
        "devices": devices,
        "jax": versions.get("jax"),
        "jaxlib": versions.get("jaxlib"),
        "xla_flags": os.environ.get("XLA_FLAGS", "") if xla_flags is None else xla_flags,
    }
    return {"id": machine_id(fields), **fields}


def machine_text(machine: dict | None) -> str:
    """One line naming a fingerprint, e.g. ``AMD EPYC (family 26, model 2), 2 cores,
    AVX-512, jax 0.10.2 [13d24f68e0df]``; ``machine not recorded`` for ``None`` (a
    record older than schema 3)."""
    if not machine:
        return "machine not recorded"
    isa = machine.get("isa") or []
    widest = ("AVX-512" if "avx512f" in isa else "AVX2" if "avx2" in isa
              else "AVX" if "avx" in isa else "no AVX")
    kind = f" (family {machine.get('family')}, model {machine.get('model')})" \
        if machine.get("family") is not None else ""
    return (f"{machine.get('cpu')}{kind}, {machine.get('cores')} cores, {widest}, "
            f"jax {machine.get('jax')} [{machine.get('id')}]")
