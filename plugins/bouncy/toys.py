from runtime import Color, Script, Vec2, Visual, VisualKind

from .ball import Ball


class Spinner(Script):
    """Turns its entity, and pulses its colour."""

    speed: float = 90.0                    # degrees per second
    pulse: Color = Color.parse("#ffb703")

    def on_update(self, ctx, dt):
        ctx.entity.rotation += self.speed * dt
        if ctx.entity.visual:
            t = abs((ctx.time % 2.0) - 1.0)
            ctx.entity.visual.color = Color.WHITE.lerp(self.pulse, t)


class Spawner(Script):
    """Launches a new ball every few seconds, up to a limit."""

    interval: float = 1.5     # seconds between balls
    max_balls: int = 8
    spawned: int = 0

    def on_init(self, ctx):
        ctx.every(self.interval, self.spawn)

    def spawn(self, ctx):
        if self.spawned >= self.max_balls:
            return
        self.spawned += 1
        angle = 37.0 * self.spawned
        ctx.spawn(
            f"Ball {self.spawned}",
            position=ctx.entity.position,
            visual=Visual(VisualKind.ELLIPSE, Vec2(20, 20), Color.parse("#8ecae6"), z=1),
            scripts=[Ball(velocity=Vec2(200.0, 0.0).rotated(angle))],
        )


class Paddle(Script):
    """Steered with the arrow keys (or A and D)."""

    speed: float = 320.0

    def on_update(self, ctx, dt):
        direction = ctx.input.axis("left", "right") or ctx.input.axis("a", "d")
        x = ctx.entity.position.x + direction * self.speed * dt
        ctx.entity.position = ctx.entity.position.with_x(max(-330.0, min(330.0, x)))


class Scoreboard(Script):
    """Shows the plugin's bounce count in its text."""

    label: str = "bounces"

    def on_update(self, ctx, dt):
        if ctx.entity.visual:
            ctx.entity.visual.text = f"{self.label}: {ctx.plugin('bouncy').total_bounces}"
