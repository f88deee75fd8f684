"""What a benchmark run measures: sizes, counts and the two presets (full and quick)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Config:
    """What to run; `Config.default` and `Config.quick_run` are the two presets."""

    sizes: list[int]
    reloads: dict[int, int]
    warmup: int = 1
    unrelated_objects: int = 1_000_000
    unrelated_size: int = 10_000
    unrelated_reloads: int = 10
    soak_reloads: int = 1000
    soak_size: int = 1000
    frame_sizes: tuple[int, ...] = (1000, 10_000)
    frames: int = 100
    draw_size: int = 10_000
    draw_frames: int = 30
    start_reps: int = 5
    import_check_size: int = 1000
    import_check_reloads: int = 20
    quiet_ms: float | None = None
    quick: bool = False

    @classmethod
    def default(cls) -> Config:
        """The full run (about two minutes on two cores)."""
        return cls(sizes=[1000, 10_000, 100_000], reloads={1000: 40, 10_000: 20, 100_000: 6})

    @classmethod
    def quick_run(cls) -> Config:
        """A few seconds: small sizes, few reloads (CI smoke run)."""
        return cls(
            sizes=[100, 1000],
            reloads={100: 4, 1000: 4},
            unrelated_objects=100_000,
            unrelated_size=1000,
            unrelated_reloads=3,
            soak_reloads=30,
            soak_size=100,
            frame_sizes=(100, 1000),
            frames=20,
            draw_size=1000,
            draw_frames=3,
            start_reps=1,
            import_check_reloads=3,
            quick=True,
        )

    def reloads_for(self, n: int) -> int:
        """Measured reloads at size `n` (fewer for big sizes when not given)."""
        if n in self.reloads:
            return self.reloads[n]
        return 40 if n <= 2000 else 20 if n <= 20_000 else 6
