"""The New Script dialog: which plugin (an existing one, or a new name) and which class name."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from runtime.template import script_module_name, script_name_problem


@dataclass(frozen=True)
class NewScriptRequest:
    """What the user asked for: a class `class_name` in ``plugins/<plugin>/``."""

    plugin: str
    class_name: str


def project_plugins(plugins_dir: Path) -> list[str]:
    """The plugin packages of a project, by name."""
    if not plugins_dir.is_dir():
        return []
    return sorted(
        p.name for p in plugins_dir.iterdir() if p.is_dir() and (p / "__init__.py").is_file()
    )


class NewScriptDialog(QDialog):
    """Asks for a plugin and a class name; OK only while both are valid and the class is new.

    Args:
        plugins_dir: the project's ``plugins/`` folder.
        taken: class names of the script types loaded now (a new class must not
            reuse one: the add-script menu could not tell them apart).
        parent: the dialog's window.
    """

    def __init__(self, plugins_dir: Path, taken: set[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("newScriptDialog")
        self.setWindowTitle("New Script")
        self._plugins_dir = plugins_dir
        self._taken = taken
        #: An existing plugin, or a new name typed in (the plugin is then made).
        self.plugin_box = QComboBox()
        self.plugin_box.setObjectName("pluginBox")
        self.plugin_box.setEditable(True)
        self.plugin_box.addItems(project_plugins(plugins_dir) or ["game"])
        self.plugin_box.setToolTip("A plugin of the project, or a new name to make one")
        self.class_edit = QLineEdit()
        self.class_edit.setObjectName("classNameEdit")
        self.class_edit.setPlaceholderText("PlayerMovement")
        self.problem = QLabel()
        self.problem.setObjectName("newScriptProblem")
        self.problem.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Plugin", self.plugin_box)
        form.addRow("Class name", self.class_edit)
        form.addRow(self.problem)
        form.addRow(self.buttons)
        self.plugin_box.editTextChanged.connect(self._validate)
        self.class_edit.textChanged.connect(self._validate)
        self.resize(420, self.sizeHint().height())
        self._validate()
        # The plugin is filled in already; the class name is what is left to type.
        self.class_edit.setFocus()

    def request(self) -> NewScriptRequest:
        """The plugin and class name entered."""
        return NewScriptRequest(
            self.plugin_box.currentText().strip(), self.class_edit.text().strip()
        )

    def problem_text(self) -> str | None:
        """Why the names entered cannot be used (``None``: they can)."""
        r = self.request()
        if not r.class_name:
            return "Name the class, for example PlayerMovement."
        if r.class_name in self._taken:
            return f"A script class {r.class_name} exists already."
        return script_name_problem(self._plugins_dir, r.plugin, r.class_name)

    def _validate(self) -> None:
        problem = self.problem_text()
        r = self.request()
        if problem is None:
            new = "" if r.plugin in project_plugins(self._plugins_dir) else " (a new plugin)"
            self.problem.setText(
                f"Creates plugins/{r.plugin}/{script_module_name(r.class_name)}.py{new}"
            )
            self.problem.setStyleSheet("color: #7d8590")
        else:
            self.problem.setText(problem)
            self.problem.setStyleSheet("color: #e9c46a")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(problem is None)
