"""What the final reward pays a trained Catch agent's glimpse policy for: a lab-notes measurement.

    python tools/catch_credit.py results/run_catch/run_0/network.h5

Plays the 10,000 fixed test games with the training policy (sampled actions and locations, the
final location std) and prints, frame by frame:

* `in`: how often the ball lies inside the finest patch;
* `P(catch|in)`, `P(catch|out)`: the catch rate of the games whose ball is, or is not, inside it
  in that frame: what a closer look is worth in reward;
* `|A|`: the mean size of REINFORCE's advantage `R - b_t` for that frame's glimpse;
* `push`: the mean of `A * (l - mu) . u / std^2`, REINFORCE's estimate of the gradient of the
  expected reward along `u`, the unit vector from the policy's mean to the ball (in location
  units), with its standard error: positive where the reward pays for looking closer to the
  ball, next to 0 where it pays nothing.

Then the greedy catch rate with each scale of the retina blanked (its patch set to zero in every
glimpse): how much catching depends on the finest patch at all.
"""

import argparse
import sys

import numpy as np

from ram import games as games_module
from ram import play
from ram import rollout
from ram import runs
from ram.backend import keras


def ball_locations(balls, config):
    """The ball's centre `[N, T, 2]` as `(x, y)` locations: the ball is on row t in frame t."""
    count, frames = balls.shape
    half, unit = config.image_size / 2.0, config.unit_pixels
    x = (balls + 0.5 - half) / unit
    y = np.broadcast_to((np.arange(frames) + 0.5 - half) / unit, (count, frames))
    return np.stack([x, y], axis=-1)


def credit_by_frame(outputs, config):
    """Per frame, the figures of the module docstring as a dict of `[T]` arrays."""
    reward = outputs["rewards"].astype(np.float64)
    inside = play.ball_inside(outputs["locations"], outputs["balls"], config)
    advantage = reward[:, None] - outputs["baselines"]
    towards = ball_locations(outputs["balls"], config) - outputs["means"]
    unit = towards / np.maximum(np.linalg.norm(towards, axis=-1, keepdims=True), 1e-6)
    std = config.location_std
    push = advantage * np.sum((outputs["locations"] - outputs["means"]) * unit, axis=-1) / std ** 2
    caught = reward[:, None] * inside
    with np.errstate(invalid="ignore", divide="ignore"):  # NaN where no game is in (or out).
        catch_if_inside = caught.sum(0) / inside.sum(0)
        catch_if_outside = (reward.sum() - caught.sum(0)) / (~inside).sum(0)
    return {"inside": inside.mean(0),
            "catch_if_inside": catch_if_inside,
            "catch_if_outside": catch_if_outside,
            "advantage": np.abs(advantage).mean(0),
            "push": push.mean(0),
            "push_error": push.std(0) / np.sqrt(len(push))}


def blanked(model, scale):
    """`model` with the retina's `scale` patch zeroed in every glimpse (a patched instance)."""
    original = model.glimpse

    def glimpse(images, locations, table=None, normalize=True):
        patches = original(images, locations, table, normalize)
        keep = np.ones((1, model.config.num_scales, 1, 1, 1), np.float32)
        keep[0, scale] = 0.0
        return patches * keras.ops.convert_to_tensor(keep, patches.dtype)

    model.glimpse = glimpse
    return model


def percent(value):
    """A catch rate as `95.58%`, or a dash where no game counted (NaN: every ball in, or none)."""
    return "   -  " if np.isnan(value) else f"{100 * value:6.2f}%"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("weights", help="a Catch run's network.h5")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sampled games' noise")
    args = parser.parse_args(argv)
    try:
        config = runs.saved_config(args.weights)
        if config.task != "play":
            raise ValueError(f"{args.weights} is not a Catch agent (task {config.task!r})")
        model = rollout.load_trained(args.weights, config)
    except ValueError as error:
        parser.exit(2, f"error: {error}\n")
    starts = games_module.CatchGames(config).test_images
    model.seed_generator = keras.random.SeedGenerator(args.seed)
    outputs = play.Player(model, config, config.eval_batch_size).games(starts, sample=True)
    figures = credit_by_frame(outputs, config)
    print(f"{len(starts)} test games, sampled policy (location std {config.location_std}): "
          f"caught {100 * outputs['rewards'].mean():.2f}%")
    print("frame    in  P(catch|in)  P(catch|out)   |A|     push (s.e.)")
    for t in range(len(figures["inside"])):
        print(f"{t:5d} {100 * figures['inside'][t]:5.1f}%  "
              f"{percent(figures['catch_if_inside'][t])}      "
              f"{percent(figures['catch_if_outside'][t])}   {figures['advantage'][t]:.3f}  "
              f"{figures['push'][t]:+.3f} ({figures['push_error'][t]:.3f})")
    for scale in range(config.num_scales):
        side = config.patch_size * config.scale_factor ** scale
        agent = blanked(rollout.load_trained(args.weights, config), scale)
        rate = play.Player(agent, config, config.eval_batch_size).games(starts)["rewards"].mean()
        print(f"greedy catch rate with the {side}x{side} scale blanked: {100 * rate:.2f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
