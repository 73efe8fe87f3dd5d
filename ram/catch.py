"""The rules of Catch (Mnih et al., 2014, section 4.2), vectorised over a batch of games in
TensorFlow ops, so that whole games run inside the compiled training step.

A square screen of `size x size` pixels. A one-pixel ball starts on the top row (row 0) and falls
one row per frame; each frame it also moves sideways by its speed (columns per frame, a float,
shown at the nearest column) and bounces off the side walls: a ball that would pass column 0 or
column `size - 1` is reflected back by as much as it overshot, and its sideways speed changes sign.
A paddle `paddle_width` pixels wide sits on the bottom row; each frame the agent moves it one column
left, keeps it, or moves it one column right (actions 0, 1, 2), never past the walls.

A game lasts `size - 1` frames. In frame `t` (0-based) the ball is on row `t`; the agent sees the
screen, then acts; the paddle moves and the ball falls to row `t + 1`. When the ball reaches the
bottom row after the last frame, the reward is 1 if a paddle pixel lies under the ball's column,
else 0. Then a new game starts (the next game of the batch).

A game's state is `[B, 3]` float32: `(ball column, sideways speed, paddle column)` (the ball's row
is the frame number); ram/games.py draws the starts.
"""

from ram.backend import tf

ACTIONS = ("left", "stay", "right")


class Catch:
    """The rules for one screen size and paddle width; every method works on a batch of games."""

    def __init__(self, size=24, paddle_width=2):
        if size < 3:
            raise ValueError(f"the Catch screen must be at least 3 pixels wide, got {size}")
        if not 1 <= paddle_width < size:
            raise ValueError(f"paddle_width must be from 1 to {size - 1}, got {paddle_width}")
        self.size = size
        self.paddle_width = paddle_width

    @property
    def frames(self):
        """Frames of one game: the ball's rows 0 to `size - 2`, an action after each."""
        return self.size - 1

    def ball_columns(self, games):
        """The column `[B]` (int32) where each ball is shown: its position rounded half up."""
        return tf.cast(tf.floor(games[:, 0] + 0.5), tf.int32)

    def render(self, games, row):
        """The screens `[B, size, size, 1]` (float32, 0 or 1) of frame `row`: the ball on that row
        and the paddle on the bottom row."""
        columns = tf.range(self.size)
        ball = (tf.one_hot(tf.fill(tf.shape(games)[:1], row), self.size)[:, :, None]
                * tf.one_hot(self.ball_columns(games), self.size)[:, None, :])
        paddle = tf.cast(games[:, 2:3], tf.int32)
        covered = tf.cast((columns[None, :] >= paddle) & (columns[None, :] < paddle
                                                           + self.paddle_width), tf.float32)
        bottom = tf.one_hot(self.size - 1, self.size)
        screen = tf.maximum(ball, bottom[None, :, None] * covered[:, None, :])
        return screen[..., None]

    def move(self, games, actions):
        """The games one frame on: the paddle moved by `actions` `[B]` (0 left, 1 stay, 2 right),
        the ball one column step sideways with its bounce (the row is the caller's frame count)."""
        paddle = tf.clip_by_value(games[:, 2] + tf.cast(actions, tf.float32) - 1.0, 0.0,
                                  float(self.size - self.paddle_width))
        ball, speed = games[:, 0] + games[:, 1], games[:, 1]
        right = float(self.size - 1)
        low, high = ball < 0.0, ball > right
        ball = tf.where(low, -ball, tf.where(high, 2.0 * right - ball, ball))
        speed = tf.where(low | high, -speed, speed)
        return tf.stack([ball, speed, paddle], axis=1)

    def caught(self, games):
        """`[B]` float32: 1 where the paddle lies under the ball (call after the last frame)."""
        ball, paddle = self.ball_columns(games), tf.cast(games[:, 2], tf.int32)
        return tf.cast((ball >= paddle) & (ball < paddle + self.paddle_width), tf.float32)

    def play(self, games, policy):
        """Plays whole games with `policy(games, row) -> actions [B]`; returns the rewards `[B]`.
        For the reference agents below (the model plays through `RecurrentAttentionModel.play`)."""
        for row in range(self.frames):
            games = self.move(games, policy(games, row))
        return self.caught(games)

    # Reference agents, for the catch rates a trained model is compared with.
    def _towards(self, games, column):
        paddle = tf.cast(games[:, 2], tf.int32)
        return tf.where(column < paddle, 0, tf.where(column >= paddle + self.paddle_width, 2, 1))

    def follow_ball(self, games, row):
        """Sees the ball: moves the paddle towards the ball's current column."""
        return self._towards(games, self.ball_columns(games))

    def landing_column(self, games, row):
        """The column where the ball of frame `row` will reach the bottom row."""
        for _ in range(row, self.frames):
            games = self.move(games, tf.ones(tf.shape(games)[:1], tf.int32))
        return self.ball_columns(games)

    def follow_landing(self, games, row):
        """Sees everything, the ball's speed too (the ceiling): moves the paddle towards the
        column where the ball will land."""
        return self._towards(games, self.landing_column(games, row))

    def random_policy(self, seed):
        """A policy of uniformly random actions (stateless, from `seed`, a pair of ints)."""
        def policy(games, row):
            return tf.random.stateless_uniform(tf.shape(games)[:1], seed=[seed, row], minval=0,
                                               maxval=3, dtype=tf.int32)
        return policy
