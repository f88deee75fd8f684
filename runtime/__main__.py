"""``python -m runtime``: the player and project tools (see `runtime.cli`)."""

from runtime.cli import main

raise SystemExit(main())
