"""Hotplay's PySide6 editor (``python -m editor``)."""
