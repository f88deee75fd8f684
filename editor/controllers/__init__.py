"""The editor's behaviour, one QObject per concern; `editor.main_window` builds and wires them.

Controllers drive the widgets they are given (attributes down) and report to
the window through Qt signals (messages up); the window connects siblings.

- `document`: the edited scene as a file: new, open, save, recent, unsaved changes;
- `recovery`: autosave of unsaved edits and the offer to recover them;
- `shown_scene`: the scene the panels show, the selection, coalesced inspector rebuilds;
- `editing`: panel edits turned into undoable commands;
- `play`: Play, Pause, Step, Stop on a `editor.play.PlayTarget`;
- `code_reload`: the build profile, the plugin watcher, hot reloads and their reports;
- `build`: the Build button.
"""

#: How long a status bar message stays, in seconds, unless told otherwise.
STATUS_SECONDS = 8.0
