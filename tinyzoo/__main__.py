"""``python -m tinyzoo``: the same as the ``tinyzoo`` console script."""

from tinyzoo.cli import main

raise SystemExit(main())
