def register_editor(editor):
    editor.add_menu_command("Count balls", lambda: editor.log.info("%d balls", 3))
