"""New Script and Open Script: write, load and attach a script; open one in the text editor."""

from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from editor.new_script import NewScriptDialog, NewScriptRequest
from editor.open_script import editor_command
from runtime import BuildProfile, Handle

BALL = Handle(4)


def class_line(path: Path, name: str) -> int:
    lines = path.read_text().splitlines()
    return next(i for i, text in enumerate(lines, 1) if text.startswith(f"class {name}("))


@pytest.mark.parametrize("profile", [BuildProfile.DEBUG, BuildProfile.DEBUG_HR])
def test_new_script_writes_loads_and_attaches_as_one_undo_step(make_window, project, profile):
    window = make_window(profile=profile)
    window.select(BALL)
    scripts_before = len(window.edited_scene[BALL].scripts)
    steps_before = window.undo_stack.count()
    type_id = window.new_script(NewScriptRequest("bouncy", "PlayerMovement"))
    path = project / "plugins" / "bouncy" / "player_movement.py"
    assert type_id == "bouncy.player_movement:PlayerMovement"
    assert path.is_file()
    scripts = window.edited_scene[BALL].scripts
    assert len(scripts) == scripts_before + 1
    assert type(scripts[-1]).__name__ == "PlayerMovement"
    assert scripts[-1].speed == 100.0  # the template's field, with its default
    assert window.undo_stack.count() == steps_before + 1
    assert type_id in [a.data() for a in window.inspector.add_script_actions()]
    window.undo_stack.undo()
    assert len(window.edited_scene[BALL].scripts) == scripts_before
    assert path.is_file()  # undo detaches; the user's file stays
    window.undo_stack.redo()
    assert type(window.edited_scene[BALL].scripts[-1]).__name__ == "PlayerMovement"


def test_new_script_in_a_new_plugin(make_window, project):
    window = make_window(profile=BuildProfile.DEBUG)
    window.select(BALL)
    type_id = window.new_script(NewScriptRequest("extras", "Blinker"))
    assert type_id == "extras.blinker:Blinker"
    assert (project / "plugins" / "extras" / "__init__.py").is_file()
    assert window.game.registry.resolve(type_id) is not None


def test_new_script_without_a_selection_only_writes_and_loads(make_window, project):
    window = make_window(profile=BuildProfile.DEBUG)
    window.select(None)
    assert window.new_script(NewScriptRequest("bouncy", "Helper")) == "bouncy.helper:Helper"
    assert window.undo_stack.count() == 0


def test_a_new_script_with_an_existing_module_name_is_refused(make_window, project):
    window = make_window(profile=BuildProfile.DEBUG)
    ball = (project / "plugins" / "bouncy" / "ball.py").read_text()
    assert window.new_script(NewScriptRequest("bouncy", "Ball")) is None
    assert "exists already" in window.status.message.text()
    assert (project / "plugins" / "bouncy" / "ball.py").read_text() == ball


def test_new_script_dialog_validates_the_names(qtbot, project):
    dialog = NewScriptDialog(project / "plugins", {"Ball", "Spinner"})
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert dialog.plugin_box.currentText() == "bouncy"
    cases = {
        "": "Name the class",
        "2fast": "not a valid class name",
        "class": "not a valid class name",
        "lower": "capital letter",
        "Spinner": "exists already",
    }
    for name, problem in cases.items():
        dialog.class_edit.setText(name)
        assert problem in dialog.problem.text(), name
        assert not ok.isEnabled(), name
    dialog.class_edit.setText("Jumper")
    assert ok.isEnabled()
    assert "plugins/bouncy/jumper.py" in dialog.problem.text()
    dialog.plugin_box.setEditText("my-plugin")
    assert not ok.isEnabled()
    dialog.plugin_box.setEditText("powerups")
    assert ok.isEnabled() and "a new plugin" in dialog.problem.text()
    assert dialog.request() == NewScriptRequest("powerups", "Jumper")


def test_new_script_is_in_the_file_menu_and_the_add_script_menu(window):
    action = window.window_actions.new_script
    assert action.objectName() == "newScriptAction"
    file_menu = window.menuBar().actions()[0].menu()
    assert action in file_menu.actions()
    window.select(BALL)
    window.inspector.rebuild()
    menu = window.inspector.add_script_button.menu()
    assert action in menu.actions()


@pytest.fixture
def launched(window):
    """The editor commands Open Script starts, instead of starting them."""
    calls: list[list[str]] = []
    window.script_opener.launch = lambda command: calls.append(list(command))
    window.script_opener.open_url = lambda url: pytest.fail(f"system opener used for {url}")
    window.script_opener.environ = {"VISUAL": "gvim -f", "EDITOR": "vi"}
    return calls


def test_open_script_in_the_inspector_opens_the_class(window, project, launched):
    window.select(BALL)
    window.inspector.rebuild()
    action = window.inspector.open_script_action(0)
    assert action is not None and action.objectName() == "openScriptAction"
    action.trigger()
    ball = project / "plugins" / "bouncy" / "ball.py"
    assert launched == [["gvim", "-f", f"+{class_line(ball, 'Ball')}", str(ball)]]


def test_a_traceback_link_opens_the_file_at_its_line(window, project, launched):
    toys = project / "plugins" / "bouncy" / "toys.py"
    window.log_panel.location_opener = window.open_location  # the window's own hook
    window.log_panel.activate_location(str(toys), 12)
    assert launched == [["gvim", "-f", "+12", str(toys)]]


def test_open_script_falls_back_to_the_system_opener(window, project):
    opened = []
    window.script_opener.environ = {"EDITOR": "nano"}  # needs a terminal the editor lacks
    window.script_opener.launch = lambda command: pytest.fail(f"started {command}")
    window.script_opener.open_url = lambda url: opened.append(url.toLocalFile()) or True
    ball = project / "plugins" / "bouncy" / "ball.py"
    window.script_opener.open(str(ball), 3)
    assert opened == [str(ball)]


def test_the_command_set_in_the_settings_wins(window, project, launched):
    window.script_opener.configured_command = "code --wait -g {file}:{line}"
    toys = project / "plugins" / "bouncy" / "toys.py"
    window.script_opener.open(str(toys), 7)
    assert launched == [["code", "--wait", "-g", f"{toys}:7"]]


@pytest.mark.parametrize(
    ("environ", "command"),
    [
        ({"VISUAL": "code"}, ["code", "--goto", "/p/a.py:5"]),
        ({"EDITOR": "subl -n"}, ["subl", "-n", "/p/a.py:5"]),
        ({"EDITOR": "kate"}, ["kate", "--line", "5", "/p/a.py"]),
        ({"EDITOR": "emacs"}, ["emacs", "+5", "/p/a.py"]),
        ({"EDITOR": "emacs -nw"}, None),
        ({"VISUAL": "/usr/bin/vim", "EDITOR": "gedit"}, ["gedit", "+5", "/p/a.py"]),
        ({}, None),
    ],
)
def test_editor_command_from_the_environment(environ, command):
    assert editor_command("/p/a.py", 5, "", environ) == command


def test_a_configured_command_without_a_file_placeholder_gets_the_file():
    assert editor_command("/p/a.py", 5, "pluma", {}) == ["pluma", "/p/a.py"]


def test_the_text_editor_command_is_set_in_the_file_menu(window, settings, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    shown = []

    def answer(_parent, _title, _label, text=""):
        shown.append(text)
        return "  gvim --remote-silent +{line} {file} ", True

    monkeypatch.setattr(QInputDialog, "getText", answer)
    window.window_actions.text_editor_command.trigger()
    assert shown == [""]
    assert settings.value("textEditor/command") == "gvim --remote-silent +{line} {file}"
    calls = []
    window.script_opener.launch = calls.append
    window.script_opener.open(__file__, 9)
    assert calls == [["gvim", "--remote-silent", "+9", __file__]]


def test_a_new_script_in_debug_does_not_say_code_changed(qtbot, make_window, project):
    # New Script loads the file itself; the watcher's notice of the write is not news.
    window = make_window(profile=BuildProfile.DEBUG)
    window.select(BALL)
    assert window.new_script(NewScriptRequest("bouncy", "PlayerMovement"))
    created = project / "plugins" / "bouncy" / "player_movement.py"
    # A real save after it: once the watcher has reported it, it has reported the new file too.
    saved = project / "plugins" / "bouncy" / "ball.py"
    saved.write_text(saved.read_text() + "\n# saved\n")
    qtbot.waitUntil(lambda: str(saved) in window.game.pending_changes(), timeout=10000)
    assert str(created) not in window.game.pending_changes()
    assert window.banner.isVisible()  # for ball.py, which Debug has not loaded


def test_new_script_dialog_starts_in_the_class_name(qtbot, project):
    # The plugin is filled in; typing right away names the class.
    dialog = NewScriptDialog(project / "plugins", set())
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.focusWidget() is dialog.class_edit
    qtbot.keyClicks(dialog.class_edit, "Jumper")
    assert dialog.request() == NewScriptRequest("bouncy", "Jumper")
