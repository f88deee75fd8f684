"""Step 3, build: compile every module of the plugins in scope; a syntax error stops here."""

from __future__ import annotations

from runtime.plugins import PluginHost, describe_error
from runtime.reload.state import ReloadFailed, Scope


def build_sources(host: PluginHost, scope: Scope) -> None:
    """Compile the modules loading will import, into the host's compiler cache.

    Raises:
        ReloadFailed: one error line per broken or unreadable file.
    """
    errors = []
    for name in scope.to_load:
        for mod_name, path in host.source_files(name):
            try:
                host.compiler.compile(path, mod_name)
            except SyntaxError as exc:
                errors.append(describe_error(exc))
            except OSError as exc:
                errors.append(f"{path}: cannot read: {exc.strerror or exc}")
    if errors:
        raise ReloadFailed(*errors)
