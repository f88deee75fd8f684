from runtime import Script, Vec2


class Ball(Script):
    """Raises ZeroDivisionError on its sixth frame under this code (look-ahead catches it)."""

    velocity: Vec2 = Vec2(180.0, 120.0)  # pixels per second
    arena: Vec2 = Vec2(380.0, 260.0)  # half the arena's width and height
    bounces: int = 0
    frames_new: int = 0

    def on_update(self, ctx, dt):
        self.frames_new += 1
        if self.frames_new > 5:
            self.velocity = self.velocity / 0
        e = ctx.entity
        e.position = e.position + self.velocity * dt

    def bounce(self, ctx):
        self.bounces += 1
        ctx.emit("bounce", ctx.handle)
