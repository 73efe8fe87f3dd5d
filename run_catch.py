"""Recurrent Attention Model playing Catch, the paper's fourth experiment (section 4.2).

`python run_catch.py` trains RUNS agents that see a 24x24 screen only through their retina and
learn to catch a falling ball from the game's final reward alone (REINFORCE for both the game
actions and the glimpse locations, with the learned baseline). Each epoch trains on fresh games and
scores the greedy policy on fixed validation games; the best epoch's agent plays the 10,000 fixed
test games. `python evaluate.py run_catch output/run_catch/run_0/network.h5` draws it playing.
The values below are what this task sets; every other value is the default in ram/config.py.
"""

import sys

from ram import cli

DATASET = "catch"  # Games of Catch (ram/catch.py), not images.
TASK = "play"  # A game action (left, stay, right) from every core state; no classifier.
IMAGE_SIZE = 24  # The paper's 24x24 screen; a game lasts 23 frames...
NUM_GLIMPSES = 23  # ...one glimpse and one action per frame.
NUM_CLASSES = 3  # The actions.
CLASS_NAMES = "left,stay,right"
PATCH_SIZE = 6  # The paper's retina: 6x6 patches...
NUM_SCALES = 3  # ...at three scales (6, 12 and 24 pixels), the coarsest the whole screen.
UNIT_PIXELS = 12.0  # +/-1 reaches the screen's edges.
CORE_TYPE = "lstm"  # The paper's core for Catch: an LSTM of 256 units.
GLIMPSE_NORMALIZATION = "block_sum"  # Coarse receptors sum their blocks: the one-pixel ball stays visible.
POLICY_TRAINS_CORE = False  # The location policy's REINFORCE trains it alone; the game actions' train the core.
ACTION_ENTROPY_WEIGHT = 0.03  # Without an entropy bonus the action policy collapses to one action.
INITIAL_LOCATION_STD = 0.2  # The glimpse policy searches twice as wide at first, narrowing to 0.1 by the end.
BALL_SPEED_CURRICULUM = 10  # Training balls start at half the top speed, all of it from epoch 11: no slow starts.
REINFORCE_WEIGHT = 1.0  # REINFORCE is the whole loss (there is no cross-entropy to weigh it against).
VALIDATION_SIZE = 2000  # Fixed validation games, for model selection.
EPOCHS = 50  # 50 epochs of 16,384 games: 18.8 million frames (the paper: 20 million); 29 minutes alone.
BATCH_SIZE = 64  # Games per step.


def main(argv=None):
    return cli.run_main(sys.modules[__name__], argv)


if __name__ == "__main__":
    sys.exit(main())
