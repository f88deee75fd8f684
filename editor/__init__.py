"""Hotplay's PySide6 editor (``python -m editor``).

`MainWindow(project_dir)` builds the editor window for a project; `main()` in
``editor.__main__`` is the command-line entry point.
"""

from editor.main_window import MainWindow

__all__ = ["MainWindow"]
