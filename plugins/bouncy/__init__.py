"""The demo plugin: bouncing balls, a spinner, a spawner and a paddle you steer.

Run the editor, press Play with the Debug (HR) profile, then edit any number
in these files and save: the running game picks it up at once.
"""

from runtime import Plugin


class Bouncy(Plugin):
    """Counts every bounce in the game (balls emit a "bounce" event)."""

    total_bounces: int = 0

    def on_init(self, ctx):
        ctx.subscribe("bounce", self.on_bounce)

    def on_bounce(self, ctx, ball_handle):
        self.total_bounces += 1
