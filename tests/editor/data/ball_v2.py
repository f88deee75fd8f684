from runtime import Color, Script, Vec2


class Ball(Script):
    """v2: same movement, turns green, and counts frames since the reload."""

    velocity: Vec2 = Vec2(180.0, 120.0)
    arena: Vec2 = Vec2(380.0, 260.0)
    bounces: int = 0
    frames_v2: int = 0

    def on_update(self, ctx, dt):
        e = ctx.entity
        self.frames_v2 += 1
        if e.visual:
            e.visual.color = Color(0, 255, 0)
        x, y = e.position + self.velocity * dt
        vx, vy = self.velocity
        radius = e.visual.size.x / 2 if e.visual else 0.0
        max_x, max_y = self.arena.x - radius, self.arena.y - radius
        if abs(x) > max_x:
            x, vx = max(-max_x, min(max_x, x)), -vx
            self.bounce(ctx)
        if abs(y) > max_y:
            y, vy = max(-max_y, min(max_y, y)), -vy
            self.bounce(ctx)
        e.position = Vec2(x, y)
        self.velocity = Vec2(vx, vy)

    def bounce(self, ctx):
        self.bounces += 1
        ctx.emit("bounce", ctx.handle)


class Wobble(Script):
    """A script type that only exists in v2."""

    amount: float = 3.0
