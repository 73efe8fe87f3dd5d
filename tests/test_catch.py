"""Catch (ram/catch.py, ram/games.py, RecurrentAttentionModel.play): the rules against hand-worked
cases, reproducible games, the game loss, bad configs, and that a short run learns to catch."""

import numpy as np
import pytest

from ram.backend import tf
from ram import catch
from ram import config as config_module
from ram import games
from ram import losses
from ram import model as model_module
from ram import play

from conftest import load_tool

RULES = catch.Catch(size=24, paddle_width=2)


def one_game(ball, speed, paddle=11):
    return tf.constant([[ball, speed, paddle]], tf.float32)


def test_a_ball_bounces_off_each_wall():
    left = RULES.move(one_game(0.5, -1.0), [1]).numpy()[0]
    assert left[0] == pytest.approx(0.5) and left[1] == pytest.approx(1.0)  # -0.5 reflects to 0.5.
    right = RULES.move(one_game(22.6, 0.8), [1]).numpy()[0]
    assert right[0] == pytest.approx(22.6) and right[1] == pytest.approx(-0.8)  # 23.4 -> 22.6.
    inside = RULES.move(one_game(5.0, 0.25), [1]).numpy()[0]
    assert inside[:2] == pytest.approx([5.25, 0.25])


def test_the_paddle_moves_one_column_and_stops_at_the_walls():
    games_ = tf.constant([[5, 0, 0], [5, 0, 0], [5, 0, 22], [5, 0, 10], [5, 0, 10]], tf.float32)
    moved = RULES.move(games_, [0, 2, 2, 1, 0]).numpy()[:, 2]
    assert moved.tolist() == [0, 1, 22, 10, 9]


def test_a_catch_needs_a_paddle_pixel_under_the_ball():
    # The paddle at column 11 covers columns 11 and 12; balls are shown at the nearest column.
    starts = tf.constant([[b, 0, 11] for b in (10.4, 10.6, 12.4, 12.6, 11.0)], tf.float32)
    assert RULES.caught(starts).numpy().tolist() == [0, 1, 1, 0, 1]


def test_a_screen_shows_the_ball_on_its_row_and_the_paddle():
    screen = RULES.render(one_game(5.5, 0.3, paddle=3), 7).numpy()[0, ..., 0]
    assert screen.sum() == 3
    assert screen[7, 6] == 1  # 5.5 rounds half up to column 6.
    assert screen[23, 3] == 1 and screen[23, 4] == 1


def test_a_whole_game_with_a_bounce_lands_where_worked_out():
    # Ball at column 2 moving left one column a frame: 1, 0, then -1 reflects to 1 and it moves
    # right; after 23 frames it is at 1 + 20 = 21.
    start = one_game(2.0, -1.0)
    assert int(RULES.landing_column(start, 0)[0]) == 21
    assert float(RULES.play(start, RULES.follow_landing)[0]) == 1  # 21 is 10 moves from 11.
    stay = lambda games_, row: tf.ones([1], tf.int32)  # noqa: E731
    assert float(RULES.play(start, stay)[0]) == 0
    assert float(RULES.play(one_game(11.0, 0.0), stay)[0]) == 1  # Straight down onto the paddle.


def test_the_reference_agents_on_the_test_games():
    config = config_module.config_from_module_name("run_catch")
    starts = games.CatchGames(config).test_images[:2000]
    rates = play.reference_rates(config, starts)
    assert rates["follow_landing"] == 1.0  # Every column can be reached from the middle in time.
    assert 0.03 < rates["random_policy"] < 0.2
    assert rates["random_policy"] < rates["follow_ball"] < 1.0


def test_the_ball_in_the_finest_patch_frame_by_frame_against_hand_worked_cases():
    config = config_module.config_from_module_name("run_catch")  # 24x24, 6x6 patch, unit 12.
    # Game A looks at (-1, -1): centre (0, 0), corner (-3, -3), rows and columns -3..2. Game B at
    # x = -1 + 1.6/12: centre column 1.6, corner round(-1.4) = -1, columns -1..4. Both cover the
    # rows 0..2 of the three frames (the ball's row is the frame number).
    locations = np.array([[[-1.0, -1.0]] * 3, [[-1.0 + 1.6 / 12, -1.0]] * 3], np.float32)
    balls = np.array([[0, 2, 3], [5, 4, 4]])  # A: in, in, out (column 3); B: out, in, in.
    np.testing.assert_allclose(play.centre_by_frame(locations, balls, config), [0.5, 1.0, 0.5])
    # Looking at the middle (rows 9..14) misses balls on rows 0..2 in any column.
    middle = np.zeros((1, 3, 2), np.float32)
    np.testing.assert_array_equal(play.centre_by_frame(middle, np.array([[12, 12, 12]]), config),
                                  [0, 0, 0])


def test_what_the_reward_pays_a_glimpse_against_hand_worked_values():
    credit = load_tool("catch_credit")
    config = config_module.config_from_module_name("run_catch")  # 24x24, unit 12, patch 6, std 0.1.
    # One frame (the ball on row 0), two games, both policies' means at (0, -1): a patch on columns
    # 9..14 and rows -3..2. Game A looked one std to the right (columns 10..15) and caught its ball
    # in column 12; game B looked at the mean and missed its ball in column 20. Baselines 0.5.
    outputs = {"rewards": np.array([1.0, 0.0]), "baselines": np.array([[0.5], [0.5]]),
               "means": np.array([[[0.0, -1.0]], [[0.0, -1.0]]]),
               "locations": np.array([[[0.1, -1.0]], [[0.0, -1.0]]]),
               "balls": np.array([[12], [20]])}
    # A's ball at (12.5 - 12) / 12 and (0.5 - 12) / 12: 1/24 right of and 1/24 below its mean, so
    # u = (1, 1) / sqrt 2, and its push is 0.5 * 0.1 / sqrt 2 / 0.01; B's sample is its mean: 0.
    np.testing.assert_allclose(credit.ball_locations(outputs["balls"][:1], config),
                               [[[0.5 / 12, -11.5 / 12]]])
    figures = credit.credit_by_frame(outputs, config)
    push = 0.5 * 0.1 / np.sqrt(2) / 0.01
    np.testing.assert_allclose(figures["inside"], [0.5])
    np.testing.assert_allclose(figures["catch_if_inside"], [1.0])
    np.testing.assert_allclose(figures["catch_if_outside"], [0.0])
    np.testing.assert_allclose(figures["advantage"], [0.5])
    np.testing.assert_allclose(figures["push"], [push / 2])
    np.testing.assert_allclose(figures["push_error"], [push / 2 / np.sqrt(2)])


def test_a_blanked_scale_is_zero_in_every_glimpse_and_the_others_are_unchanged():
    credit = load_tool("catch_credit")
    config = config_module.config_from_module_name("run_catch")
    screens = RULES.render(one_game(12.0, 0.0), 12)
    location = tf.constant([[0.05, 0.05]])
    whole = model_module.RecurrentAttentionModel(config, seed=0).glimpse(screens, location).numpy()
    patches = credit.blanked(model_module.RecurrentAttentionModel(config, seed=0), 0).glimpse(
        screens, location).numpy()
    assert whole[:, 0].max() == 1.0 and not patches[:, 0].any()  # The ball was in the 6x6 patch.
    np.testing.assert_array_equal(patches[:, 1:], whole[:, 1:])


def test_the_ball_speed_curriculum_rises_from_half_to_the_full_speed():
    config = config_module.config_from_module_name("run_catch").with_overrides(
        ["games_per_epoch=2000", "validation_size=1000", "ball_speed_curriculum=4"])
    source = games.CatchGames(config)
    assert [source.ball_speed(epoch) for epoch in range(1, 7)] == [0.5, 0.625, 0.75, 0.875, 1, 1]
    for epoch, top in ((1, 0.5), (3, 0.75), (5, 1.0)):
        speeds = np.abs(next(source.train_batches(epoch, 0, 2000))[0][:, 1])
        assert top * 0.99 < speeds.max() <= top
    assert np.abs(source.validation_images[:, 1]).max() > 0.99  # Validation: the full speed.


def test_games_come_from_their_seed_and_are_fresh_each_epoch():
    config = config_module.config_from_module_name("run_catch").with_overrides(
        ["games_per_epoch=100", "validation_size=10"])
    first = games.CatchGames(config)
    again = games.CatchGames(config)
    batch = next(first.train_batches(3, 7, 50))[0]
    assert np.array_equal(batch, next(again.train_batches(3, 7, 50))[0])
    assert not np.array_equal(batch, next(first.train_batches(4, 7, 50))[0])
    assert np.array_equal(first.test_images, again.test_images)
    assert len(first.test_images) == games.TEST_GAMES
    assert set(batch[:, 2]) == {11} and 0 <= batch[:, 0].min() and batch[:, 0].max() <= 23
    assert np.abs(batch[:, 1]).max() <= 1


def small_catch(**values):
    base = {"dataset": "catch", "task": "play", "image_size": 8, "num_glimpses": 7,
            "num_classes": 3, "patch_size": 2, "num_scales": 3, "unit_pixels": 4.0,
            "core_type": "lstm", "glimpse_hidden": 16, "location_hidden": 8, "glimpse_size": 32,
            "core_size": 32, "location_network_hidden": 0, "reinforce_weight": 1.0,
            "validation_size": 500, "games_per_epoch": 2048, "batch_size": 32, "epochs": 4,
            "learning_rate": 3e-3, "jit_compile": False, "test_samples": 0, "runs": 1}
    return config_module.Config.from_dict({**base, **values})


def test_an_episode_is_reproducible_from_its_seed():
    config = small_catch()
    starts = games.CatchGames(config).validation_images[:16]
    environment = play.environment_for(config)
    first = model_module.RecurrentAttentionModel(config.model_config, seed=5)
    second = model_module.RecurrentAttentionModel(config.model_config, seed=5)
    second.set_weights(first.get_weights())
    one = first.play(starts, environment, training=True)
    two = second.play(starts, environment, training=True)
    for name in ("actions", "locations", "rewards", "balls"):
        np.testing.assert_array_equal(one[name].numpy(), two[name].numpy())
    assert one["actions"].shape == (16, 7) and one["log_probs"].shape == (16, 7)


def test_the_game_loss_against_a_hand_computed_value():
    outputs = {"rewards": tf.constant([1.0, 0.0]),
               "baselines": tf.constant([[0.5, 0.25], [0.5, 0.5]]),
               "log_probs": tf.constant([[-1.0, -2.0], [-1.0, 0.0]]),
               "action_log_probs": tf.constant([[-0.5, -0.5], [-1.0, -1.0]]),
               "action_entropies": tf.constant([[1.0, 0.5], [0.25, 0.25]])}
    config = small_catch(reinforce_weight=1.0, baseline_weight=1.0, action_entropy_weight=0.5)
    terms = losses.game_loss(outputs, config)
    # Game 1: (-1.5)(0.5) + (-2.5)(0.75) = -2.625; game 2: (-2)(-0.5) + (-1)(-0.5) = 1.5.
    assert float(terms["reinforce"]) == pytest.approx(-(-2.625 + 1.5) / 2)
    baseline = (0.25 + 0.5625 + 0.25 + 0.25) / 4
    assert float(terms["baseline_loss"]) == pytest.approx(baseline)
    entropy = (1.5 + 0.5) / 2
    assert float(terms["loss"]) == pytest.approx(-(-2.625 + 1.5) / 2 + baseline - 0.5 * entropy)
    assert float(terms["reward"]) == 0.5 and float(terms["cross_entropy"]) == 0


@pytest.mark.parametrize("values, message", [
    ({"patch_size": 30}, "patch_size (30) is larger than the image (24)"),
    ({"num_glimpses": 0}, "num_glimpses must be at least 1"),
    ({"num_glimpses": 10}, "set num_glimpses=23"),
    ({"image_size": 2, "patch_size": 1, "num_glimpses": 1}, "at least 3 pixels"),
    ({"task": "classify"}, "task='play' goes with dataset='catch'"),
    ({"num_classes": 10, "class_names": ""}, "Catch has 3 actions"),
])
def test_bad_catch_configs_are_refused_with_a_clear_message(values, message):
    config = config_module.config_from_module_name("run_catch")
    with pytest.raises(config_module.ConfigError, match=message.replace("(", r"\(").replace(
            ")", r"\)")):
        config_module.Config.from_dict({**config.to_dict(), **values})


@pytest.fixture(scope="module")
def trained_agent(tmp_path_factory):
    """A small agent (8x8 screen, 7 frames) trained for 5 epochs of 8,192 games."""
    from ram import training
    config = small_catch(glimpse_normalization="block_sum", policy_trains_core=False, epochs=5,
                         games_per_epoch=8192)
    folder = tmp_path_factory.mktemp("catch") / "run_0"
    dataset = few_test_games(config)
    results = training.train(config, folder, verbose=0, dataset=dataset)
    return config, folder, results


def few_test_games(config, count=1000):
    """The config's games with only the first `count` test games (the full 10,000 take longer)."""
    dataset = games.CatchGames(config)
    dataset.test_images, dataset.test_labels = (dataset.test_images[:count],
                                                dataset.test_labels[:count])
    return dataset


def test_a_short_run_learns_to_catch_far_above_the_random_policy(trained_agent):
    config, folder, results = trained_agent
    random_rate = play.reference_rates(config, few_test_games(config).test_images)[
        "random_policy"]
    assert random_rate < 0.35
    assert results["test_accuracy"] > random_rate + 0.15, results["test_accuracy"]
    assert results["complete"] and len(results["epochs"]) == 5
    assert 0 <= results["ball_in_centre"] <= 1
    by_frame = results["ball_in_centre_by_frame"]
    assert len(by_frame) == config.num_glimpses
    assert np.mean(by_frame[-play.LAST_FRAMES:]) == pytest.approx(results["ball_in_centre"])
    assert results["test_accuracy_sampled"] is None  # test_samples=0: not asked for.
    assert (folder / "network.h5").is_file() and (folder / "model.keras").is_file()


def test_a_trained_agent_reloads_and_is_drawn_playing(trained_agent, tmp_path):
    from PIL import Image
    from ram import evaluation
    from ram import rollout
    config, folder, results = trained_agent
    model = rollout.load_trained(folder / "network.h5")
    dataset = few_test_games(config)
    figures = play.Player(model, config).catch_rates(dataset.test_images, sampled=False)
    assert figures["catch_rate"] == pytest.approx(results["test_accuracy"])
    keras_model = rollout.load_trained(folder / "model.keras")
    again = play.Player(keras_model, config).catch_rates(dataset.test_images, sampled=False)
    assert again["catch_rate"] == figures["catch_rate"]
    chosen = evaluation.draw_games(model, config, dataset, 3, 0, tmp_path)
    assert len(chosen) == 3
    with Image.open(tmp_path / "catch.gif") as gif:
        assert gif.n_frames == config.num_glimpses + 1  # Every frame, then the outcome.
        assert gif.size[0] == 3 * config.image_size * 10  # Three games side by side.
