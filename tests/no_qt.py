"""Child Pythons in which PySide6 cannot be imported, as on a machine without it.

`BLOCK_QT` is source code that makes every import of ``PySide6`` or
``shiboken6`` fail with `ModuleNotFoundError` (a meta-path finder ahead of all
others), whether or not they are installed; run it first in a child with
``python -c``. `runtime_command` is ``python -m runtime`` in such a child.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

BLOCK_QT = """\
import sys


class _NoQt:
    # First on sys.meta_path: the installed packages are never found.
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("PySide6", "shiboken6"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


assert not any(m.partition(".")[0] in ("PySide6", "shiboken6") for m in sys.modules)
sys.meta_path.insert(0, _NoQt())
"""

#: ``python -m runtime`` after `BLOCK_QT` (``runpy`` runs it as ``-m`` would).
_RUN_RUNTIME = BLOCK_QT + (
    "import runpy\nrunpy.run_module('runtime', run_name='__main__', alter_sys=True)\n"
)


def python_without_qt(code: str, *, flags: Sequence[str] = ()) -> list[str]:
    """The command running `code` in a child Python that cannot import PySide6."""
    return [sys.executable, *flags, "-c", BLOCK_QT + code]


def runtime_command(*, flags: Sequence[str] = ()) -> list[str]:
    """``python [flags] -m runtime`` without PySide6; append the command's arguments."""
    return [sys.executable, *flags, "-c", _RUN_RUNTIME]
