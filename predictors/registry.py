"""Built-in predictors by name, and user predictors from ``path/to/file.py:ClassName``."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

from predictors.base import READS, Predictor
from predictors.baselines import Constant, LinearStats
from predictors.deep_sets import DeepSets
from predictors.probegen import ProbeGen
from predictors.probing import Probing
from predictors.references import HParams, ProbeOracle, TrainLoss
from predictors.statnn import STATNN
from predictors.unf_predictor import UNFPredictor
from zoo_data.errors import TinyZooError

__all__ = ["BUILTINS", "load_predictor", "check_reads"]

#: name -> class, in the order tables list them: weight-space methods, then the
#: reference rows that read no weights or run the network (:mod:`predictors.references`)
BUILTINS: dict[str, type[Predictor]] = {
    cls.name: cls for cls in (UNFPredictor, STATNN, DeepSets, ProbeGen, Probing, LinearStats,
                              Constant, HParams, TrainLoss, ProbeOracle)
}

_SLUG = re.compile(r"^[A-Za-z0-9._-]+$")


def check_reads(predictor: Predictor | type[Predictor], where: str) -> None:
    """Refuse a predictor (class or instance) whose ``reads`` is not one of :data:`READS`.

    Raises:
      TinyZooError: one line starting with ``where`` (the predictor's file:class or name).
    """
    if predictor.reads not in READS:
        raise TinyZooError(f"{where}: reads {predictor.reads!r}; declare one of "
                           f"{', '.join(READS)}")


def load_predictor(method: str) -> tuple[Predictor, str]:
    """``(predictor instance, kind)`` for a built-in name (kind ``"builtin"``) or
    ``path/to/file.py:ClassName`` (kind ``"user"``).

    Raises:
      TinyZooError: one line naming the method, file or class that is wrong.
    """
    if method in BUILTINS:
        return BUILTINS[method](), "builtin"
    path_text, sep, class_name = method.rpartition(":")
    if not sep or not path_text.endswith(".py"):
        raise TinyZooError(
            f"unknown method {method!r}; choose one of {', '.join(BUILTINS)} or give "
            "path/to/file.py:ClassName"
        )
    path = Path(path_text)
    if not path.is_file():
        raise TinyZooError(f"{path}: no such predictor file")
    module_name = f"tinyzoo_user_predictor_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as e:  # the user's code: report, do not crash
        raise TinyZooError(f"{path}: cannot import ({type(e).__name__}: {e})") from None
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Predictor)):
        raise TinyZooError(f"{path}: no Predictor subclass named {class_name!r}")
    check_reads(cls, f"{path}:{class_name}")
    if not _SLUG.match(cls.name) or cls.name == Predictor.name:
        raise TinyZooError(
            f"{path}:{class_name}: set the class attribute name to a slug "
            "([A-Za-z0-9._-]+), e.g. name = 'my-predictor'"
        )
    try:
        return cls(), "user"
    except Exception as e:
        raise TinyZooError(f"{path}:{class_name}: cannot instantiate ({e})") from None
