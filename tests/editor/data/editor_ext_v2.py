def register_editor(editor):
    editor.add_menu_command("Count balls (v2)", lambda: editor.log.info("v2"))

    def make_panel():
        from PySide6.QtWidgets import QLabel

        return QLabel("bounce stats")

    editor.add_dock("Bounce stats", make_panel)
