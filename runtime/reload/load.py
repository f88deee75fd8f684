"""Step 5, load: import a fresh generation of the plugins in scope, set aside."""

from __future__ import annotations

from runtime.plugins import LoadedPlugin, PluginHost
from runtime.reload.state import Scope


def load_generation(host: PluginHost, scope: Scope) -> dict[str, LoadedPlugin]:
    """The new generation by plugin name; the running one is untouched.

    Raises:
        runtime.plugins.PluginError: a type id clashes with another plugin's.
        Exception: whatever importing the new code raised.
    """
    fresh = host.import_aside(scope.to_load)
    for p in fresh.values():
        host.registry.check_conflicts(p, replacing=fresh)
    return fresh
