"""What a benchmark run measures: sizes, counts and the two presets (full and quick)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Config:
    """What to run; `Config.default` and `Config.quick_run` are the two presets."""

    sizes: list[int]
    reloads: dict[int, int]
    warmup: int = 1
    field_size: int = 10_000
    field_reloads: int = 20
    unrelated_objects: int = 1_000_000
    unrelated_size: int = 10_000
    unrelated_reloads: int = 10
    soak_reloads: int = 1000
    soak_size: int = 1000
    frame_sizes: tuple[int, ...] = (1000, 10_000)
    frames: int = 100
    update_reloads: int = 100
    draw_size: int = 10_000
    draw_frames: int = 30
    start_reps: int = 5
    import_check_size: int = 1000
    import_check_reloads: int = 20
    compare_size: int = 10_000
    compare_reloads: int = 20
    editor_edit_size: int = 100_000
    editor_edit_rounds: int = 20
    editor_play_size: int = 10_000
    editor_play_saves: int = 20
    look_ahead_size: int = 1000
    look_ahead_frames: int = 30
    look_ahead_reloads: int = 20
    history_size: int = 1000
    history_blocks: int = 20
    history_samples: int = 10
    quiet_ms: float | None = None
    quick: bool = False

    @classmethod
    def default(cls) -> Config:
        """The full run: 20 reloads or more per size, 100,000 included (7 to 10 minutes).

        Measured on two shared, busy cores; the 100,000-entity reloads and the
        editor's 100,000-entity scene take more than half of it.
        """
        return cls(sizes=[1000, 10_000, 100_000], reloads={1000: 40, 10_000: 20, 100_000: 20})

    @classmethod
    def quick_run(cls) -> Config:
        """A few seconds: small sizes, few reloads (CI smoke run)."""
        return cls(
            sizes=[100, 1000],
            reloads={100: 4, 1000: 4},
            field_size=1000,
            field_reloads=4,
            unrelated_objects=100_000,
            unrelated_size=1000,
            unrelated_reloads=3,
            soak_reloads=30,
            soak_size=100,
            frame_sizes=(100, 1000),
            frames=20,
            update_reloads=5,
            draw_size=1000,
            draw_frames=3,
            start_reps=1,
            import_check_reloads=3,
            compare_size=1000,
            compare_reloads=3,
            editor_edit_size=100,
            editor_edit_rounds=2,
            editor_play_size=100,
            editor_play_saves=2,
            look_ahead_reloads=3,
            history_blocks=3,
            history_samples=2,
            quick=True,
        )

    def reloads_for(self, n: int) -> int:
        """Measured reloads at size `n` (40 for small sizes, 20 otherwise, when not given)."""
        if n in self.reloads:
            return self.reloads[n]
        return 40 if n <= 2000 else 20
