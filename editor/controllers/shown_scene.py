"""The scene the panels show, its selection, and keeping the panels up to date."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from editor.inspector import InspectorPanel
from editor.scene_tree import SceneTreeView
from editor.scene_view import SceneView
from runtime import Handle, Scene
from runtime.scene import EntityChanged, EntityRemoved, SceneEvent, ScriptsReplaced

#: Frames between two value refreshes of the inspector while playing.
_FRAMES_PER_VALUE_REFRESH = 6
#: Value refreshes between two refreshes of the tree's icons (twice a second).
_REFRESHES_PER_DECORATION = 5


class ShownSceneController(QObject):
    """Shows one scene in the scene view, the tree and the inspector, with one selection.

    The shown scene is the edited one, or the running copy while playing. The
    controller observes it: its events only mark the inspector dirty
    (`InspectorPanel.schedule_rebuild`), so a hot reload, which replaces the
    scripts of many entities inside its commit step, rebuilds the inspector once,
    afterwards, with the new field editors.

    Args:
        scene_view: the central view.
        scene_tree: the tree panel.
        inspector: the inspector panel.
        parent: the owning window.

    Signals:
        selectionChanged(object): the selected `Handle`, or ``None``.
        sceneChanged(): an entity of the shown scene was added, changed or removed.
    """

    selectionChanged = Signal(object)
    sceneChanged = Signal()

    def __init__(
        self,
        scene_view: SceneView,
        scene_tree: SceneTreeView,
        inspector: InspectorPanel,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.scene_view = scene_view
        self.scene_tree = scene_tree
        self.inspector = inspector
        self._scene: Scene | None = None
        self._selection: tuple[Handle, ...] = ()
        self._frames_since_refresh = 0
        self._refreshes_since_decor = 0
        scene_view.entityClicked.connect(self.select)
        scene_view.selectionRequested.connect(self.select_many)
        scene_tree.selectionRequested.connect(self.select_many)

    @property
    def scene(self) -> Scene | None:
        """The scene shown (``None`` before the first `show`)."""
        return self._scene

    @property
    def selected(self) -> Handle | None:
        """The primary selected entity (the inspector's and the gizmo's)."""
        return self._selection[0] if self._selection else None

    @property
    def selection(self) -> tuple[Handle, ...]:
        """Every selected entity, the primary one first."""
        return self._selection

    def show(self, scene: Scene, *, mode: str, fit: bool = False) -> None:
        """Show `scene` in every panel; `mode` is "editing", "playing" or "paused"."""
        read_only = mode != "editing"
        if self._scene is not None:
            self._scene.unsubscribe(self._on_scene_event)
        self._scene = scene
        scene.subscribe(self._on_scene_event)
        self.scene_view.set_scene(scene, mode=mode, fit=fit)
        self.scene_tree.set_scene(scene, read_only=read_only)
        self.inspector.set_scene(scene, mode=mode)
        self._selection = tuple(h for h in self._selection if h in scene)
        self._apply_selection()

    def clear_selection(self) -> None:
        """Forget the selection without telling anyone (a new document replaces the scene)."""
        self._selection = ()

    def select(self, handle: Handle | None) -> None:
        """Select an entity alone in every panel (``None``: nothing)."""
        self.select_many(() if handle is None else (handle,))

    def select_many(self, handles: tuple[Handle, ...]) -> None:
        """Select several entities in every panel; the first one is primary."""
        scene = self._scene
        chosen = tuple(dict.fromkeys(h for h in handles if scene is not None and h in scene))
        self._selection = chosen
        self._apply_selection()
        self.selectionChanged.emit(self.selected)

    def frame_advanced(self, *, paused: bool) -> None:
        """A frame of the game ran: repaint, and refresh values a few times a second."""
        self.scene_view.update()
        self._frames_since_refresh += 1
        if self._frames_since_refresh >= _FRAMES_PER_VALUE_REFRESH or paused:
            self._frames_since_refresh = 0
            self.inspector.refresh_values()
            self._refreshes_since_decor += 1
            if self._refreshes_since_decor >= _REFRESHES_PER_DECORATION:
                # Icons follow colour changes, twice a second.
                self._refreshes_since_decor = 0
                self.scene_tree.refresh_decorations()

    def detach(self) -> None:
        """Stop observing the scene and empty the panels (the window is closing)."""
        if self._scene is not None:
            self._scene.unsubscribe(self._on_scene_event)
            self._scene = None
        self.scene_tree.detach()
        self.scene_view.set_scene(None)
        self.inspector.set_scene(None)

    def _apply_selection(self) -> None:
        self.scene_tree.select_many(self._selection)
        self.scene_view.set_selection(self._selection)
        self.inspector.set_entity(self.selected)

    def _on_scene_event(self, event: SceneEvent) -> None:
        # May run inside a reload's commit step: mark dirty, never rebuild here.
        h = self.selected
        if isinstance(event, EntityRemoved):
            scene = self._scene
            if scene is not None and any(s not in scene for s in self._selection):
                self.select_many(self._selection)  # forgets the removed ones
        elif isinstance(event, ScriptsReplaced):
            if h is not None and h in event.handles:
                self.inspector.schedule_rebuild()
        elif isinstance(event, EntityChanged) and event.handle == h:
            if event.attribute == "visual":
                self.inspector.schedule_rebuild()  # the kind decides which rows exist
            else:
                self.inspector.refresh_values()
        self.sceneChanged.emit()
