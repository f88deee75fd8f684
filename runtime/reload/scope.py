"""Step 2, scope: the plugins owning the changed paths, and every plugin importing one."""

from __future__ import annotations

from runtime.plugins import PluginHost
from runtime.reload.state import Scope


def find_scope(host: PluginHost, paths: list[str] | None) -> Scope:
    """The plugins a reload of `paths` touches (all of them when `paths` is ``None``)."""
    on_disk = set(host.discover(warn=False))  # warned about at load, not on every save
    if paths is None:
        names = set(host.plugins) | on_disk
    else:
        names = {n for n in (host.plugin_of_path(p) for p in paths) if n}
        # A package folder deleted as a whole is reported as the folder itself.
        for p in paths:
            rel = host.relative_path(p)
            if rel is not None and len(rel.parts) == 1 and rel.parts[0] in host.plugins:
                names.add(rel.parts[0])
    names = host.dependents(names)
    removed = tuple(sorted(n for n in names if n not in on_disk and n in host.plugins))
    to_load = tuple(sorted(n for n in names if n in on_disk))
    return Scope(names=tuple(sorted({*to_load, *removed})), to_load=to_load, removed=removed)
