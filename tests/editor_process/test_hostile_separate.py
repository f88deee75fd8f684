"""Game code in a Separate-process game cannot freeze the editor through what the child sends.

A runaway spawner in the child makes its scene grow by thousands of entities a
second; the editor mirrors the child's scene tree (`RemoteSceneMirror`, the
remote tree panel) in one turn of its event loop per ``tree`` message, so the
message is bounded (`TREE_LIMIT`), whatever the game does.
"""

from __future__ import annotations

from pathlib import Path

from editor.player_process.process import TREE_LIMIT
from runtime import Game
from runtime.channel import scene_tree_payload

from ..budget_projects import BUDGET
from ..conftest import entity, write_project
from ..editor.test_untrusted_code import make_game_project, run_editor

#: A runaway spawner whose frames stay cheap: nothing pauses the child's game.
BARE_SPAWNER = """
from runtime import Script


class Spawner(Script):
    def on_update(self, ctx, dt):
        for _ in range(200):
            ctx.spawn("Spawned")
"""

PLAY_SEPARATE_UNTIL_FLOODED = """
from editor.controllers.play import RUN_SEPARATE

window.run_target_combo.setCurrentText(RUN_SEPARATE)
player = window.player
trees, connected = [], []
player.tree.connect(lambda t: trees.append([len(t["entities"]), t.get("total", 0)]))
player.connected.connect(lambda info: connected.append(1))
window.play()
end = time.perf_counter() + 30
while not connected and time.perf_counter() < end:
    wait(0.05)
last[0], longest[0] = time.perf_counter(), 0.0  # from here on: the game runs
end = time.perf_counter() + 30
while not (trees and trees[-1][1] > 4 * TREE_LIMIT) and time.perf_counter() < end:
    wait(0.05)
wait(1.0)
result["trees"] = trees[-3:]
result["mirrored"] = len(window.scene_view.scene)
window.stop()
wait(1.0)
"""


def test_a_runaway_spawner_in_a_separate_process_does_not_freeze_the_editor(tmp_path):
    root = make_game_project(
        tmp_path / "game", {"spawner.py": BARE_SPAWNER}, "game.spawner:Spawner"
    )
    scenario = f"TREE_LIMIT = {TREE_LIMIT}\n" + PLAY_SEPARATE_UNTIL_FLOODED
    out = run_editor(root, tmp_path, scenario, profile="debug-hr")
    assert out["trees"], "the child never sent its tree"
    shown, total = out["trees"][-1]
    assert total > 4 * TREE_LIMIT and shown == TREE_LIMIT
    assert out["mirrored"] <= TREE_LIMIT
    assert out["longest_block"] < BUDGET + 0.5


def test_a_tree_message_holds_the_first_entities_and_says_how_many_there_are(tmp_path):
    root = write_project(tmp_path / "project", scene=[entity(h, f"E{h}") for h in range(1, 11)])
    with Game(Path(root)) as game:
        game.step(1)
        whole = scene_tree_payload(game)
        cut = scene_tree_payload(game, limit=4)
    assert len(whole["entities"]) == whole["total"] == 10
    assert cut["total"] == 10 and cut["entities"] == whole["entities"][:4]
