"""Asset hot reload: `AssetWatcher` turns saves in ``assets/`` into changes for the game thread.

The same `runtime.watcher.PluginWatcher` that watches ``plugins/`` watches
``assets/`` with its own filter (images and scenes), so a saved image is
debounced exactly like a saved source. Its thread only records the change and
calls the wake-up; the game thread `take`s the pending changes between frames
(`runtime.Game.apply_asset_changes`) and tells its observers: the renderer of a
window or of the editor's view drops the changed image, the editor asks about
a scene changed under it, a player child reports it to the editor.

This module imports no Qt: decoding an image is the renderer's business.
`image_problem` only tells a file that cannot be an image (empty, unreadable,
not an image format's signature), for a player without a window.
"""

from __future__ import annotations

import enum
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from runtime.changes import LoadedFiles, file_stamps

if TYPE_CHECKING:
    from runtime.watcher import PluginWatcher


#: Suffixes of the images a visual can show (those Qt reads without plugins).
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"})
#: How a scene file's name ends.
SCENE_SUFFIX = ".scene.json"

# The first bytes of each image format (a file that starts otherwise is not one).
_SIGNATURES = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",  # JPEG
    b"BM",
    b"GIF87a",
    b"GIF89a",
    b"RIFF",  # WebP is RIFF....WEBP
)


class AssetKind(enum.Enum):
    """What an asset file is."""

    IMAGE = "image"
    SCENE = "scene"


def asset_kind(path: str | os.PathLike[str]) -> AssetKind | None:
    """The kind of asset a path names, or ``None`` for any other file."""
    name = Path(path).name.lower()
    if name.endswith(SCENE_SUFFIX):
        return AssetKind.SCENE
    if Path(name).suffix in IMAGE_SUFFIXES:
        return AssetKind.IMAGE
    return None


def is_asset(path: str) -> bool:
    """Whether a changed path is an image or a scene (editors' temporary files are not)."""
    # Imported here: watchdog is loaded only by a game that watches (see `AssetWatcher.start`).
    from runtime.watcher import is_editor_noise

    return not is_editor_noise(path) and asset_kind(path) is not None


def image_problem(path: str | os.PathLike[str]) -> str | None:
    """Why a file cannot be an image, or ``None`` when it may be one (not decoded)."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError as exc:
        return f"cannot read it: {exc.strerror or exc}"
    if not head:
        return "the file is empty"
    if not head.startswith(_SIGNATURES) or (head.startswith(b"RIFF") and head[8:12] != b"WEBP"):
        return "not an image file"
    return None


@dataclass(frozen=True, slots=True)
class AssetChange:
    """One changed asset file, as the game thread hears of it.

    Attributes:
        path: the file's path relative to ``assets/``, with ``/`` separators
            (as visuals name images).
        kind: image or scene.
        exists: false when the file was deleted (or renamed away).
    """

    path: str
    kind: AssetKind
    exists: bool

    def __str__(self) -> str:
        return f"{self.kind.value} {self.path} {'changed' if self.exists else 'deleted'}"


@dataclass(frozen=True, slots=True)
class AssetReload:
    """What became of one changed asset: reloaded, or kept as it was and why.

    Attributes:
        path: the file's path relative to ``assets/``.
        kind: image or scene.
        error: why the new file was not taken (the old one is kept); empty when it was.
    """

    path: str
    kind: AssetKind
    error: str = ""

    @property
    def ok(self) -> bool:
        """Whether the new file was taken."""
        return not self.error

    def __str__(self) -> str:
        if self.ok:
            return f"{self.kind.value} reloaded: {self.path}"
        return f"{self.kind.value} {self.path} not reloaded, the old one is kept: {self.error}"


class AssetWatcher:
    """Watches ``assets/`` and queues the changed images and scenes for the game thread.

    Args:
        assets_dir: the project's ``assets/`` folder.
        quiet_ms: the debounce window (default: the plugin watcher's).
        wakeup: called on the watcher's thread after each batch (quick and
            thread-safe: it only wakes the game thread).
    """

    def __init__(
        self,
        assets_dir: str | os.PathLike[str],
        *,
        quiet_ms: float | None = None,
        wakeup: Callable[[], None] | None = None,
    ) -> None:
        # Absolute, not resolved: watchdog reports paths under the folder as given.
        self.assets_dir = Path(assets_dir).absolute()
        self.wakeup = wakeup
        self._quiet_ms = quiet_ms
        self._lock = threading.Lock()
        self._pending: dict[str, float] = {}
        self._watcher: PluginWatcher | None = None
        #: What each file held when it was last taken.
        self.loaded = LoadedFiles()

    @property
    def alive(self) -> bool:
        """Whether the watcher threads run."""
        return self._watcher is not None and self._watcher.alive

    def start(self) -> None:
        """Start watching (a missing ``assets/`` folder is watched once it exists: never)."""
        if self._watcher is not None or not self.assets_dir.is_dir():
            return
        from runtime.watcher import PluginWatcher

        self._watcher = PluginWatcher(
            self.assets_dir, self.post_saved, quiet_ms=self._quiet_ms, relevant=is_asset
        )
        self._watcher.start()

    def stop(self) -> None:
        """Stop the watcher threads and wait for them."""
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None

    def post_saved(self, paths: list[str], detected_at: float | None = None) -> None:
        """`post` the watcher's saved `paths`, but those that still hold what was taken last.

        One save is sometimes reported as two batches: the second is not news.
        """
        self.post(self.loaded.changed(str(Path(self.assets_dir, p)) for p in paths), detected_at)

    def post(self, paths: list[str], detected_at: float | None = None) -> None:
        """Queue changed files (absolute, or relative to ``assets/``) and wake the game thread."""
        at = time.perf_counter() if detected_at is None else detected_at
        with self._lock:
            for p in paths:
                self._pending.setdefault(str(Path(self.assets_dir, p)), at)
        wakeup = self.wakeup
        if paths and wakeup is not None:
            wakeup()

    def take(self) -> list[AssetChange]:
        """The changes queued since the last `take`, one per file, oldest first."""
        with self._lock:
            pending, self._pending = self._pending, {}
        # Before the listeners read them: a save after this still differs.
        self.loaded.mark(file_stamps(pending))
        changes = []
        for path in sorted(pending, key=pending.__getitem__):
            kind = asset_kind(path)
            try:
                rel = Path(path).relative_to(self.assets_dir).as_posix()
            except ValueError:
                continue  # not under assets/ (a rename out of it reports the old path)
            if kind is not None:
                changes.append(AssetChange(rel, kind, os.path.isfile(path)))
        return changes
