"""Build hook: ship the sample game (``hotplay.toml``, ``plugins/``, ``assets/``) in the wheel.

The repository root is the sample project, and it stays the one copy of it:
the build copies it into ``editor/sample/``, where the welcome page's "Open the
sample game" finds it after a non-editable ``pip install``. Everything else
about the build is declared in ``pyproject.toml``.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
#: What the sample is made of, and what a copy of it leaves out.
SAMPLE_PARTS = ("hotplay.toml", "plugins", "assets")
SAMPLE_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.recovery.json", ".*")


class BuildPyWithSample(build_py):
    """``build_py`` that also copies the sample project into ``editor/sample/``."""

    def run(self) -> None:  # noqa: D102 (base-class API)
        super().run()
        target = Path(self.build_lib) / "editor" / "sample"
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for part in SAMPLE_PARTS:
            source = ROOT / part
            if source.is_dir():
                shutil.copytree(source, target / part, ignore=SAMPLE_IGNORED)
            else:
                shutil.copy2(source, target / part)


setup(cmdclass={"build_py": BuildPyWithSample})
