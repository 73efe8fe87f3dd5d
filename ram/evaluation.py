"""What `evaluate.py` does with a trained model: test accuracy (deterministic and sampled), where
the glimpses land (ram/foveation.py), and pictures of episodes (ram/visualize.py); for a Catch
agent, its catch rates against the reference agents and a GIF of it playing (ram/play.py)."""

import sys

import numpy as np

from ram.backend import keras
from ram import foveation
from ram import play
from ram import rollout
from ram import sources
from ram import visualize

def test_data(config, data_path=None):
    """The fixed test images of `config`'s task (and its validation split, made alike)."""
    return sources.open_data(config, data_path)[0]


def report_accuracy(model, config, dataset, args):
    """Prints and returns the figures `args` asks for: test accuracy with deterministic locations
    (unless `args.no_accuracy`), of `args.samples` sampled episodes, and `args.foveation`."""
    report = {}
    # --seed chooses the sampling noise too.
    model.seed_generator = keras.random.SeedGenerator(args.seed)
    episodes = rollout.Rollout(model, config.eval_batch_size)
    images, labels = dataset.test_images, dataset.test_labels
    if not args.no_accuracy:
        bar = keras.utils.Progbar(len(images), verbose=1 if sys.stdout.isatty() else 0)
        accuracy, sampled = episodes.accuracies(images, labels, args.samples, bar.update)
        report["test_accuracy"] = accuracy
        print(f"test accuracy {100 * accuracy:.2f}% "
              f"({round(accuracy * len(images))}/{len(images)}, deterministic locations)")
        if args.samples:
            report[f"test_accuracy_mc{args.samples}"] = sampled
            print(f"test accuracy {100 * sampled:.2f}% (mean of {args.samples} sampled episodes)")
    if args.foveation:
        locations, logits = [], []
        for start in range(0, len(images), episodes.batch_size):
            outputs = episodes.episode(images[start:start + episodes.batch_size])
            locations.append(outputs["locations"])
            logits.append(outputs["logits"])
        correct = np.concatenate(logits).argmax(-1) == labels
        report["foveation"] = foveation.foveation(np.concatenate(locations), correct,
                                                  dataset.test_positions, config.image_size,
                                                  config.unit_pixels)
        print("where the glimpses land (deterministic episodes):")
        print("\n".join(foveation.report_lines(report["foveation"])))
    return report


def draw_episodes(model, config, dataset, count, seed, output):
    """Draws `count` test images chosen by `seed` with their glimpses into `output`; returns the
    chosen indices and the stale pictures removed."""
    chosen = np.random.default_rng(seed).choice(len(dataset.test_labels),
                                                min(count, len(dataset.test_labels)), replace=False)
    images = dataset.test_images[chosen]
    outputs = rollout.Rollout(model).episode(images)
    locations = outputs["locations"]
    predictions = outputs["logits"].argmax(-1)
    floats = images.astype(np.float32) / 255.0
    glimpses = np.stack([model.glimpse(floats, locations[:, step], normalize=False).numpy()
                         for step in range(config.num_glimpses)], axis=1)
    written = []
    labels = [config.class_name(int(label)) for label in dataset.test_labels[chosen]]
    predicted = [config.class_name(int(label)) for label in predictions]
    for row in range(len(chosen)):
        written += visualize.write_episode(output, row, floats[row], locations[row],
                                           glimpses[row], config, labels[row], predicted[row])
    visualize.write_overview(output / "glimpses.png", floats, locations, glimpses, config, labels,
                             predicted)
    stale = visualize.remove_stale_pictures(output, written)
    return [int(index) for index in chosen], stale


def report_games(model, config, dataset, args):
    """Prints and returns a Catch agent's figures on the fixed test games: greedy and sampled catch
    rates, the ball in the finest patch over the last frames, and the reference agents'."""
    model.seed_generator = keras.random.SeedGenerator(args.seed)
    starts = dataset.test_images
    figures = play.Player(model, config, config.eval_batch_size).catch_rates(starts)
    figures.update(play.reference_rates(config, starts, args.seed))
    print(f"catch rate {100 * figures['catch_rate']:.2f}% greedy, "
          f"{100 * figures['catch_rate_sampled']:.2f}% sampled ({len(starts)} test games)")
    print(f"ball inside the {config.patch_size}x{config.patch_size} centre in "
          f"{100 * figures['ball_in_centre']:.1f}% of the last {play.LAST_FRAMES} frames")
    print("frame by frame (%): " + " ".join(f"{100 * value:.0f}"
                                            for value in figures["ball_in_centre_by_frame"]))
    print(f"reference agents: random {100 * figures['random_policy']:.2f}%, following the ball "
          f"{100 * figures['follow_ball']:.2f}%, going where it will land "
          f"{100 * figures['follow_landing']:.2f}%")
    return figures


def draw_games(model, config, dataset, count, seed, output):
    """An animated GIF (`output/catch.gif`) of `count` test games chosen by `seed`, side by side;
    returns the chosen games' indices."""
    chosen = np.random.default_rng(seed).choice(len(dataset.test_images),
                                                min(count, len(dataset.test_images)),
                                                replace=False)
    frames = play.game_frames(play.Player(model, config), dataset.test_images[chosen])
    visualize.write_gif(output / "catch.gif", frames, milliseconds=250)
    return [int(index) for index in chosen]
