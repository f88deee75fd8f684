"""Release bytecode: how a built module is written to and read from a ``.pyc`` file.

The Build step (`runtime.build`) writes these files and the release player's
`runtime.plugins.SourceCompiler` reads them; both import this module, neither
imports the other.
"""

from __future__ import annotations

import importlib.util
import marshal
import types
from pathlib import Path

# Flags word of a PEP 552 pyc: hash-based (bit 0), not checked against the source (bit 1 clear).
# A release build deliberately runs the code it was built from, whatever the sources say now.
_PYC_UNCHECKED_HASH = 0b01


def pyc_bytes(source: bytes, code: types.CodeType) -> bytes:
    """A PEP 552 unchecked hash-based pyc: magic, flags, source hash, marshalled code."""
    return (
        importlib.util.MAGIC_NUMBER
        + _PYC_UNCHECKED_HASH.to_bytes(4, "little")
        + importlib.util.source_hash(source)
        + marshal.dumps(code)
    )


def load_bytecode(bytecode_dir: Path, plugins_dir: Path, source_path: str) -> types.CodeType:
    """The built code of a plugin module (the release player's `SourceCompiler` calls this).

    Args:
        bytecode_dir: a Release build output (see `runtime.build.release_dir`).
        plugins_dir: the project's ``plugins/`` folder (resolved).
        source_path: the module's source file under `plugins_dir`.

    Raises:
        ImportError: the module is not in the build, or another Python version built it.
    """
    try:
        rel = Path(source_path).resolve().relative_to(plugins_dir)
    except ValueError:
        raise ImportError(f"{source_path} is not under {plugins_dir}") from None
    pyc = bytecode_dir / "plugins" / rel.with_suffix(".pyc")
    try:
        data = pyc.read_bytes()
    except FileNotFoundError:
        raise ImportError(
            f"{source_path} is not in the Release build {bytecode_dir}: build again"
        ) from None
    if data[:4] != importlib.util.MAGIC_NUMBER or len(data) < 16:
        raise ImportError(f"{pyc} was built by another Python version: build again")
    code = marshal.loads(data[16:])
    if not isinstance(code, types.CodeType):
        raise ImportError(f"{pyc} holds no code object: build again")
    return code
