"""Hotplay's runtime: scenes, plugins and scripts, the game loop and hot reload.

The public API a game author and a tool use::

    from runtime import Script, Plugin, Vec2, Color, Handle      # writing game code
    from runtime import Game, BuildProfile                       # driving the runtime

This package imports no Qt (only `runtime.qt` does, and nothing here imports it).
"""

from runtime.context import PluginContext, ScriptContext
from runtime.game import Game
from runtime.plugins import PluginError
from runtime.profiles import BuildProfile
from runtime.project import Project, ProjectError
from runtime.reports import MigrationNote, ReloadReport
from runtime.scene import Entity, Scene, Visual, VisualKind
from runtime.scenefile import SceneFileError, load_scene, save_scene
from runtime.scripting import PlaceholderScript, Plugin, Script, type_id_of
from runtime.values import Color, Handle, Vec2

__all__ = [
    "BuildProfile",
    "Color",
    "Entity",
    "Game",
    "Handle",
    "MigrationNote",
    "PlaceholderScript",
    "Plugin",
    "PluginContext",
    "PluginError",
    "Project",
    "ProjectError",
    "ReloadReport",
    "Scene",
    "SceneFileError",
    "Script",
    "ScriptContext",
    "Vec2",
    "Visual",
    "VisualKind",
    "load_scene",
    "save_scene",
    "type_id_of",
]
