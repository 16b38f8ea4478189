"""Performance, calibration and analysis scripts, run from the repository root as
``python -m scripts.NAME``: they time and probe the library through its public functions.

This folder is not part of the installed distribution (pyproject's ``packages.find``
leaves it out) and no library package imports it; ``tests/test_architecture.py`` checks
both. Its ``__init__.py`` only makes ``python -m scripts.NAME`` and the scripts' imports of
one another work from a checkout."""
