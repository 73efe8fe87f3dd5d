"""Games played by a trained Catch agent: its catch rates, where it looked, the reference agents,
and an animated GIF of it playing (what `evaluate.py run_catch WEIGHTS` and a run's test report).

* `catch_rates`: the fraction of games caught with the greedy policy (the most probable action and
  the location network's means) and with the sampled policy (actions and locations drawn as in
  training), and how often the ball lay inside the glimpse's finest patch in the last frames
  (and frame by frame: `centre_by_frame`).
* `reference_rates`: a random policy (the floor), an agent that sees the whole screen and moves the
  paddle towards the ball, and one that also knows the ball's speed and moves towards where it will
  land (the ceiling), on the same games.
"""

import numpy as np

from ram.backend import tf
from ram import catch
from ram import glimpse
from ram import visualize

# The paper's claim to check: near the bottom the agent keeps the ball in its finest patch.
LAST_FRAMES = 5


def environment_for(config):
    return catch.Catch(config.image_size, config.paddle_width)


def ball_inside(locations, balls, config):
    """`[N, T]` bools: whether each game's ball lay inside the finest patch (`patch_size` square)
    of each frame's glimpse, from `locations` `[N, T, 2]` and `balls` `[N, T]` (columns); the
    ball's row is the frame number."""
    count, frames = locations.shape[:2]
    # The finest patch's (row, col) corners, snapped by the retina's own rule.
    corner = glimpse.patch_corners(np.reshape(locations, (-1, 2)), config.image_size,
                                   config.image_size, config.patch_size,
                                   config.unit_pixels).numpy().reshape(count, frames, 2)
    rows = np.arange(frames)[None, :]
    return ((balls >= corner[..., 1]) & (balls < corner[..., 1] + config.patch_size)
            & (rows >= corner[..., 0]) & (rows < corner[..., 0] + config.patch_size))


def centre_by_frame(locations, balls, config):
    """Per frame `[T]`, the fraction of games whose ball lay inside the finest patch
    (`ball_inside`)."""
    return ball_inside(locations, balls, config).mean(axis=0)


class Player:
    """Plays batches of games with one compiled episode of `model`."""

    def __init__(self, model, config, batch_size=1000):
        self.model = model
        self.config = config
        self.batch_size = batch_size
        self.environment = environment_for(config)
        self._play = tf.function(self._games)

    def _games(self, starts, sample):
        return self.model.play(starts, self.environment, sample=sample)

    def games(self, starts, sample=False):
        """The outputs (NumPy) of playing every start, in batches."""
        chunks = [{name: value.numpy() for name, value in
                   self._play(starts[first:first + self.batch_size], sample).items()}
                  for first in range(0, len(starts), self.batch_size)]
        return {name: np.concatenate([chunk[name] for chunk in chunks]) for name in chunks[0]}

    def catch_rates(self, starts, sampled=True):
        """`{"catch_rate", "catch_rate_sampled", "ball_in_centre", "ball_in_centre_by_frame"}` on
        the games `starts` (the centre figures of the greedy games)."""
        greedy = self.games(starts)
        by_frame = centre_by_frame(greedy["locations"], greedy["balls"], self.config)
        figures = {"catch_rate": float(greedy["rewards"].mean()),
                   "ball_in_centre": float(by_frame[-LAST_FRAMES:].mean()),
                   "ball_in_centre_by_frame": [float(value) for value in by_frame]}
        if sampled:
            figures["catch_rate_sampled"] = float(self.games(starts, True)["rewards"].mean())
        return figures


def reference_rates(config, starts, seed=0):
    """Catch rates of a random policy, of the agent that follows the ball, and of the one that
    goes where the ball will land, on `starts`."""
    environment = environment_for(config)
    starts = tf.constant(starts)
    return {"random_policy": float(tf.reduce_mean(
                environment.play(starts, environment.random_policy(seed)))),
            "follow_ball": float(tf.reduce_mean(
                environment.play(starts, environment.follow_ball))),
            "follow_landing": float(tf.reduce_mean(
                environment.play(starts, environment.follow_landing)))}


def game_frames(player, starts, scale=10):
    """The RGB frames of an animated GIF of the games `starts` played side by side (greedy):
    each screen with the glimpse's patch outlines (green the finest, as the other pictures'
    first-glimpse colour, then yellow, red) and the action taken under it."""
    config = player.config
    outputs = player.games(starts)
    size, frames = config.image_size, config.num_glimpses
    pictures = []
    games = tf.constant(starts)
    screens_of_games = []
    for frame in range(frames):
        screens_of_games.append(player.environment.render(games, frame).numpy())
        games = player.environment.move(games, outputs["actions"][:, frame])
    final = player.environment.render(games, frames).numpy()
    colours = (visualize.FIRST_COLOUR, visualize.MIDDLE_COLOUR, visualize.LAST_COLOUR)
    for frame in range(frames + 1):
        panels = []
        for game in range(len(starts)):
            screen = (screens_of_games[frame] if frame < frames else final)[game]
            panel = visualize.to_rgb(screen, size * scale)
            panel[panel.sum(-1) == 0] = (25, 25, 45)  # A dark blue board, the ball and paddle white.
            if frame < frames:
                boxes = visualize.patch_boxes(outputs["locations"][game, frame], size, config)
                for scale_index, (top, left, side) in enumerate(boxes):
                    visualize.draw_box(panel, top * scale, left * scale, side * scale,
                                       colours[min(scale_index, 2)])
                text = catch.ACTIONS[outputs["actions"][game, frame]]
            else:
                text = "caught" if outputs["rewards"][game] else "missed"
            panels.append(visualize.add_title(panel, text))
        pictures.append(np.concatenate(panels, axis=1))
    return pictures
