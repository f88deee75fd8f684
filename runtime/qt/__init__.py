"""The runtime's only Qt code: what a window needs to show a game.

- `runtime.qt.render`: `SceneRenderer` and `Camera`, the drawing shared by the
  player window and the editor's scene view, so a scene looks the same in both.
- `runtime.qt.keys`: `key_name`, the one table from Qt keys to the key names
  of `runtime.input.InputState`.
- `runtime.qt.player_window`: `PlayerWindow` and `run_window`, the windowed
  ``python -m runtime play`` (its start-up and session are `runtime.player`).

Nothing in the core imports this package: `runtime.cli` imports
`runtime.qt.player_window` only when a window is asked for, so headless play,
the editor's child player and Release run where PySide6 is not installed. This
``__init__`` imports nothing, so importing a submodule loads only what it needs.
"""
