"""Playing in a separate process, one module per concern.

- `process`: `PlayerProcess`, the child's lifecycle (build, start, stop, kill) and its messages;
- `command`: the child's command line and environment;
- `channel_server`: `ChannelServer`, the editor's end of the authenticated channel;
- `hang`: `SilenceWatch`, which notices a child that stopped answering;
- `output`: the child's stdout/stderr lines and the log flood limit;
- `play_target`: `SeparateProcessPlay`, the `editor.play.PlayTarget` for the main window;
- `install`: `install_separate_process`, which plugs all of it into the main window.
"""
