"""Catch games as a data source: where each game starts, for training, validation and test.

The game's rules run in TensorFlow inside the compiled step (ram/catch.py); this TF-free module only
draws the games' starting states, seeded, so that the run loop (ram/training.py) treats a batch of
games like a batch of images. A game's start is three numbers, `(ball column, ball speed
sideways, paddle column)`: the ball appears at a random column of the top row, moves sideways by a
random speed in `[-ball_speed, ball_speed]` columns per frame, and the paddle starts in the middle
of the bottom row (from there it can reach every column in time). Everything a game shows follows from its start and the agent's actions,
so a game is reproducible from its seed.

`CatchGames` serves fresh training games every epoch (`games_per_epoch`, ordered by `(seed,
epoch)`), and fixed validation and test games drawn from their own seeds, the same for every run.
Its "labels" are zeros: a game has no class, its reward comes from the rules.
"""

import hashlib

import numpy as np

from ram.data import DataError, DataSource

# Seeds of the fixed games; never change them, or published catch rates stop being comparable.
VALIDATION_GAMES_SEED = 2014
TEST_GAMES_SEED = 1992
TEST_GAMES = 10000
# Bump when the rules in ram/catch.py change what a start leads to; it is part of the checksum.
RULES_VERSION = 1


def start_states(rng, count, screen_size, paddle_width, ball_speed):
    """`[count, 3]` float32 starts `(ball column, sideways speed, paddle column)` drawn from `rng`."""
    ball = rng.integers(0, screen_size, count)
    speed = rng.uniform(-ball_speed, ball_speed, count)
    paddle = np.full(count, (screen_size - paddle_width) // 2)
    return np.stack([ball, speed, paddle], axis=1).astype(np.float32)


class CatchGames(DataSource):
    """Games of Catch: `train_batches` yields `(starts, zeros)`; validation and test games are fixed."""

    generated = True
    test_positions = None
    validation_positions = None

    def __init__(self, config, limit=None):
        self.config = config
        self._num_train = config.games_per_epoch if limit is None else min(limit,
                                                                           config.games_per_epoch)
        if self._num_train < 1:
            raise DataError(f"--limit must be at least 1, got {limit}")
        self.validation_images = self._starts(np.random.default_rng(VALIDATION_GAMES_SEED),
                                              config.validation_size)
        self.validation_labels = np.zeros(len(self.validation_images), np.int32)
        self.test_images = self._starts(np.random.default_rng(TEST_GAMES_SEED), TEST_GAMES)
        self.test_labels = np.zeros(TEST_GAMES, np.int32)
        digest = hashlib.sha256(f"catch rules {RULES_VERSION}".encode())
        digest.update(self.validation_images.tobytes())
        digest.update(self.test_images.tobytes())
        self.checksum = digest.hexdigest()

    def _starts(self, rng, count, ball_speed=None):
        c = self.config
        return start_states(rng, count, c.image_size, c.paddle_width,
                            c.ball_speed if ball_speed is None else ball_speed)

    @property
    def num_train(self):
        return self._num_train

    def check(self, config):
        if config.dataset != "catch":
            raise DataError(f"Catch games need dataset='catch', got {config.dataset!r}")

    def ball_speed(self, epoch):
        """The training ball's top sideways speed in `epoch` (1, 2, ...): with
        `ball_speed_curriculum` C, half of `ball_speed` in the first epoch, rising linearly to all
        of it from epoch C + 1 on; validation and test games always use all of it."""
        c = self.config
        if epoch > c.ball_speed_curriculum:
            return c.ball_speed
        return c.ball_speed * (0.5 + 0.5 * (epoch - 1) / c.ball_speed_curriculum)

    def train_batches(self, epoch, seed, batch_size):
        """Yields `(starts, zeros)` batches of fresh games; they depend only on `(seed, epoch)`."""
        rng = np.random.default_rng([seed, epoch])
        speed = self.ball_speed(epoch)
        for start in range(0, self.num_train, batch_size):
            count = min(batch_size, self.num_train - start)
            yield self._starts(rng, count, speed), np.zeros(count, np.int32)
