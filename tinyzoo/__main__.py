"""``python -m tinyzoo``: the same as the ``tinyzoo`` console script."""

from tinyzoo.launch import console_main

raise SystemExit(console_main())
