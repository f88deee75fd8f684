"""Entry point of ``python -m runtime.bench``."""

import sys

from runtime.bench.cli import main

sys.exit(main())
