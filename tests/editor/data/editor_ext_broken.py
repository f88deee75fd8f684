def register_editor(editor):
    editor.add_menu_command("Never installed", lambda: None)
    raise RuntimeError("editor code broke")
