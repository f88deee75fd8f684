from runtime import Script, Vec2


class Ball(Script):
    """Flies in a straight line and bounces off the walls of the arena."""

    velocity: Vec2 = Vec2(180.0, 120.0)  # pixels per second
    arena: Vec2 = Vec2(380.0, 260.0)  # half the arena's width and height
    bounces: int = 0

    def on_update(self, ctx, dt):
        e = ctx.entity
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
