"""Shapes of every network, the separation of gradients, and every run module's config."""

import pathlib

import numpy as np
import pytest
import tensorflow as tf

from ram import config as config_module
from ram import model as model_module
from ram import losses
from ram import storage
from test_glimpse import reference_retina

from conftest import MNIST_RUN_MODULES as RUN_MODULES


def small_config(**overrides):
    values = dict(num_glimpses=3, glimpse_hidden=16, location_hidden=8, glimpse_size=32,
                  core_size=24)
    values.update(overrides)
    return config_module.Config(**values).validate()


def test_every_network_has_the_documented_shapes():
    batch = 5
    glimpse_network = model_module.GlimpseNetwork(16, 8, 32)
    out = glimpse_network(tf.zeros((batch, 2, 6, 6, 1)), tf.zeros((batch, 2)))
    assert out.shape == (batch, 32)
    core = model_module.CoreNetwork(24, "rnn")
    hidden, state = core(out, core.initial_state(batch))
    assert hidden.shape == (batch, 24) and len(state) == 1
    lstm = model_module.CoreNetwork(24, "lstm")
    hidden, state = lstm(out, lstm.initial_state(batch))
    assert hidden.shape == (batch, 24) and len(state) == 2
    mean = model_module.LocationNetwork()(hidden)
    assert mean.shape == (batch, 2) and np.all(np.abs(mean.numpy()) <= 1)
    assert model_module.LocationNetwork(7)(hidden).shape == (batch, 2)
    assert model_module.ActionNetwork(10)(hidden).shape == (batch, 10)
    assert model_module.BaselineNetwork()(hidden).shape == (batch,)


@pytest.mark.parametrize("core_type", ["rnn", "lstm"])
def test_model_outputs(core_type):
    model = model_module.RecurrentAttentionModel(small_config(core_type=core_type), seed=1)
    outputs = model.rollout(tf.random.uniform((4, 28, 28, 1)), training=True)
    assert outputs["logits"].shape == (4, 10)
    for key in ("locations", "means"):
        assert outputs[key].shape == (4, 3, 2)
    assert outputs["log_probs"].shape == (4, 3) and outputs["baselines"].shape == (4, 3)
    assert np.all(np.abs(outputs["locations"].numpy()) <= 1)


def test_evaluation_is_deterministic_and_training_samples():
    model = model_module.RecurrentAttentionModel(small_config(), seed=1)
    images = tf.random.uniform((4, 28, 28, 1))
    first = model.rollout(images)["locations"].numpy()
    np.testing.assert_array_equal(first, model.rollout(images)["locations"].numpy())
    np.testing.assert_array_equal(first, np.clip(model.rollout(images)["means"].numpy(), -1, 1))
    assert not np.allclose(first, model.rollout(images, training=True)["locations"].numpy())


def test_uint8_images_give_the_same_outputs_as_float_images_in_unit_range():
    model = model_module.RecurrentAttentionModel(small_config(num_scales=3), seed=1)
    pixels = np.random.default_rng(0).integers(0, 256, (4, 28, 28, 1)).astype(np.uint8)
    from_uint8 = model.rollout(pixels)
    from_float = model.rollout(pixels.astype(np.float32) / 255.0)
    for key in ("logits", "locations", "baselines"):
        np.testing.assert_allclose(from_uint8[key].numpy(), from_float[key].numpy(),
                                   rtol=1e-5, atol=1e-5)
    assert np.abs(from_uint8["logits"].numpy()).max() > 1e-3  # not trivially zero


def test_several_episodes_per_image_equal_the_repeated_images():
    # The table is made once per image and repeated; the rollout must be that of repeated images.
    config = small_config(dataset="translated", image_size=40, patch_size=6, num_scales=3,
                          unit_pixels=17.0)
    model = model_module.RecurrentAttentionModel(config, seed=4)
    images = np.random.default_rng(5).integers(0, 256, (4, 40, 40, 1)).astype(np.uint8)
    noise = model.seed_generator.state.numpy()
    outputs = model.rollout(images, training=True, episodes=3)
    model.seed_generator.state.assign(noise)
    expected = model.rollout(np.repeat(images, 3, axis=0), training=True)
    for name in ("logits", "locations", "log_probs", "baselines"):
        assert outputs[name].shape[0] == 12, name
        np.testing.assert_allclose(outputs[name].numpy(), expected[name].numpy(), rtol=1e-6,
                                   atol=1e-6, err_msg=name)
    # Each image's three episodes look in different places.
    first = outputs["locations"].numpy()[:, 1].reshape(4, 3, 2)
    assert not np.allclose(first[:, 0], first[:, 1])


def test_mean_path_episode_makes_each_images_first_training_episode_follow_the_means():
    config = small_config(episodes_per_image=3, mean_path_episode=True)
    model = model_module.RecurrentAttentionModel(config, seed=4)
    images = np.random.default_rng(5).random((4, 28, 28, 1)).astype(np.float32)
    outputs = model.rollout(images, training=True, episodes=3)
    locations = outputs["locations"].numpy().reshape(4, 3, config.num_glimpses, 2)
    means = np.clip(outputs["means"].numpy().reshape(4, 3, config.num_glimpses, 2), -1, 1)
    np.testing.assert_allclose(locations[:, 0], means[:, 0], atol=1e-6)  # the mean path
    assert np.abs(locations[:, 1:] - means[:, 1:]).min(axis=-1).mean() > 1e-3  # sampled
    # A mean-path step's log-probability is the Gaussian's peak, log(1 / (2 pi std^2)).
    peak = -2 * np.log(config.location_std) - np.log(2 * np.pi)
    log_probs = outputs["log_probs"].numpy().reshape(4, 3, config.num_glimpses)
    np.testing.assert_allclose(log_probs[:, 0], peak, rtol=1e-5)
    # Evaluation is unchanged: sampled rollouts sample every episode.
    sampled = model.rollout(images, sample=True, episodes=3)
    assert np.abs(sampled["locations"].numpy() - np.clip(sampled["means"].numpy(), -1, 1)).min(
        axis=-1).min() > 0
    with pytest.raises(config_module.ConfigError, match="mean_path_episode"):
        small_config(mean_path_episode=True)


def reference_rollout(model, images):
    """The deterministic episode in NumPy, written from the module docstring of ram.model."""
    c = model.config
    relu = lambda x: np.maximum(x, 0.0)  # noqa: E731

    def dense(layer, x):
        return x @ layer.kernel.numpy() + layer.bias.numpy()

    glimpse, location = model.glimpse_network, model.location_network
    hidden = np.zeros((len(images), c.core_size), np.float32)
    locations, baselines = [], []
    for _ in range(c.num_glimpses):
        features = relu(dense(location.hidden, hidden)) if location.hidden is not None else hidden
        mean = np.tanh(dense(location.mean, features))
        baselines.append(dense(model.baseline_network.dense, hidden)[:, 0])
        where = np.clip(mean, -1, 1)
        patches = reference_retina(images, where, c.patch_size, c.num_scales, c.scale_factor,
                                   c.unit_pixels).reshape(len(images), -1)
        g = relu(dense(glimpse.output_dense, np.concatenate(
            [relu(dense(glimpse.glimpse_dense, patches)),
             relu(dense(glimpse.location_dense, where))], axis=-1)))
        hidden = relu(dense(model.core_network.dense, np.concatenate([hidden, g], axis=-1)))
        locations.append(where)
    return dense(model.action_network.dense, hidden), np.stack(locations, 1), np.stack(baselines, 1)


@pytest.mark.parametrize("location_network_hidden", [0, 7])
def test_the_rollout_matches_a_numpy_reference(location_network_hidden):
    # Random biases too, so that the first step (h_0 = 0, computed in a shorter way) is checked.
    model = model_module.RecurrentAttentionModel(
        small_config(num_scales=2, location_network_hidden=location_network_hidden), seed=2)
    rng = np.random.default_rng(6)
    for variable in model.weight_dict().values():
        variable.assign(rng.normal(0.0, 0.3, variable.shape).astype(np.float32))
    images = rng.random((5, 28, 28, 1)).astype(np.float32)
    outputs = model.rollout(images)
    logits, locations, baselines = reference_rollout(model, images)
    np.testing.assert_allclose(outputs["locations"].numpy(), locations, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(outputs["baselines"].numpy(), baselines, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(outputs["logits"].numpy(), logits, rtol=1e-4, atol=1e-4)
    assert np.abs(np.diff(locations[:, 0], axis=0)).max() == 0  # the first look is the same for all
    assert np.abs(np.diff(locations[:, 1], axis=0)).max() > 1e-3  # the later ones are not


def test_gaussian_log_prob_matches_the_formula():
    sample = np.array([[0.3, -0.2]], np.float32)
    mean = np.array([[0.1, 0.1]], np.float32)
    std = 0.2
    expected = sum(-0.5 * ((s - m) / std) ** 2 - np.log(std) - 0.5 * np.log(2 * np.pi)
                   for s, m in zip(sample[0], mean[0]))
    assert float(model_module.gaussian_log_prob(sample, mean, std)[0]) == pytest.approx(expected, 1e-5)


def _loss_gradients(model, loss_name, images, labels, noise=None, core_gradient=None):
    """`(outputs, {variable path: gradient})` of one loss term over a training rollout; variables
    the term does not reach are left out."""
    with tf.GradientTape() as tape:
        outputs = model.rollout(images, training=True, noise=noise, core_gradient=core_gradient)
        loss = losses.hybrid_loss(outputs, labels, config_module.LossConfig())[loss_name]
    gradients = tape.gradient(loss, model.trainable_variables)
    return outputs, {variable.path: gradient for variable, gradient
                     in zip(model.trainable_variables, gradients) if gradient is not None}


def _gradients(model, loss_name, images, labels):
    _, gradients = _loss_gradients(model, loss_name, images, labels)
    return {variable.path.split("/")[0]: 0.0 for variable in model.trainable_variables} | {
        path.split("/")[0]: 1.0 for path, gradient in gradients.items()
        if float(tf.reduce_max(tf.abs(gradient))) > 0}


@pytest.mark.parametrize("policy_trains_core, reinforce_reaches", [
    (False, {"location_network"}),
    # As in the Torch reference: REINFORCE also trains what h_{t-1} is made of.
    (True, {"location_network", "core_network", "glimpse_network"}),
])
def test_each_loss_reaches_only_its_own_networks(policy_trains_core, reinforce_reaches):
    model = model_module.RecurrentAttentionModel(
        small_config(policy_trains_core=policy_trains_core), seed=3)
    images = tf.random.uniform((16, 28, 28, 1))
    labels = tf.constant(np.arange(16) % 10)
    reached = {name: {network for network, hit in _gradients(model, name, images, labels).items()
                      if hit}
               for name in ("cross_entropy", "reinforce", "baseline_loss")}
    assert reached["cross_entropy"] == {"glimpse_network", "core_network", "action_network"}
    assert reached["reinforce"] == reinforce_reaches
    assert reached["baseline_loss"] == {"baseline_network"}


def _reinforce_gradients(policy_core_gradient, images, labels, noise, weights=None,
                         core_gradient=None):
    model = model_module.RecurrentAttentionModel(
        small_config(policy_core_gradient=policy_core_gradient), seed=3)
    if weights is not None:
        model.rollout(images)  # Builds the layers.
        model.set_weights(weights)
    outputs, gradients = _loss_gradients(model, "reinforce", images, labels, noise, core_gradient)
    return model.get_weights(), outputs, gradients


# The share comes from the config, or (as the trainer's warm-up passes it) from a variable that
# overrides the config's.
@pytest.mark.parametrize("config_share, variable_share", [(0.25, None), (1.0, 0.25)])
def test_policy_core_gradient_scales_only_what_reinforce_sends_into_the_core(config_share,
                                                                            variable_share):
    images = tf.random.uniform((8, 28, 28, 1), seed=5)
    labels = tf.constant(np.arange(8) % 10)
    noise = tf.random.normal((8, small_config().num_glimpses, 2), seed=6)
    weights, full_outputs, full = _reinforce_gradients(1.0, images, labels, noise)
    variable = None if variable_share is None else tf.Variable(variable_share)
    _, outputs, scaled = _reinforce_gradients(config_share, images, labels, noise, weights,
                                              variable)
    # The same episodes: the scale changes gradients only, never a forward value.
    for name in ("locations", "log_probs", "logits"):
        np.testing.assert_array_equal(outputs[name].numpy(), full_outputs[name].numpy())
    assert full.keys() == scaled.keys()
    for path, gradient in full.items():
        factor = 1.0 if path.startswith("location_network") else 0.25
        np.testing.assert_allclose(scaled[path].numpy(), factor * gradient.numpy(),
                                   rtol=1e-4, atol=1e-7, err_msg=path)
    assert any(path.startswith("core_network") for path in full)


@pytest.mark.parametrize("module_name", RUN_MODULES)
def test_every_run_module_builds_a_valid_model(module_name):
    config = config_module.config_from_module_name(module_name)
    model = model_module.RecurrentAttentionModel(config, seed=0)
    images = tf.zeros((2, config.image_size, config.image_size, 1))
    outputs = model.rollout(images)
    assert outputs["logits"].shape == (2, config.num_classes)
    assert outputs["locations"].shape == (2, config.num_glimpses, 2)
    # Parameter count, from the layer sizes: glimpse network, core, location, action, baseline.
    glimpse_inputs = config.num_scales * config.patch_size ** 2
    expected = (glimpse_inputs * config.glimpse_hidden + config.glimpse_hidden
                + 2 * config.location_hidden + config.location_hidden
                + (config.glimpse_hidden + config.location_hidden + 1) * config.glimpse_size)
    if config.core_type == "rnn":
        expected += (config.core_size + config.glimpse_size + 1) * config.core_size
    else:
        expected += 4 * ((config.core_size + config.glimpse_size + 1) * config.core_size)
    hidden = config.location_network_hidden
    expected += ((config.core_size + 1) * hidden + (hidden + 1) * 2) if hidden else (config.core_size + 1) * 2
    expected += (config.core_size + 1) * config.num_classes + config.core_size + 1
    assert model.count_params() == expected


@pytest.mark.parametrize("normalization", ["patch_mean", "patch_contrast"])
def test_patch_normalizations_against_numpy(normalization):
    config = small_config(dataset="images", num_classes=3, num_scales=2, patch_size=4, channels=3,
                          image_size=12, unit_pixels=3.0,
                          glimpse_normalization=normalization)
    model = model_module.RecurrentAttentionModel(config, seed=0)
    images = np.random.default_rng(3).random((2, 12, 12, 3)).astype(np.float32)
    locations = np.array([[0.2, -0.4], [-1.0, 0.5]], np.float32)
    raw = reference_retina(images, locations, 4, 2, 2, 3.0)
    expected = raw - raw.mean(axis=(2, 3), keepdims=True)  # Per patch, scale and channel.
    if normalization == "patch_contrast":
        expected = np.abs(expected)
    np.testing.assert_allclose(model.glimpse(images, locations).numpy(), expected, atol=1e-5)
    np.testing.assert_allclose(model.glimpse(images, locations, normalize=False).numpy(), raw,
                               atol=1e-5)


def reference_conv_features(network, patches):
    """`GlimpseNetwork.features` with convolutions, in NumPy loops: each scale's patch through a 3x3
    convolution (zero padding), ReLU and 2x2 max-pooling (an odd side keeps its last row and column
    as a pool of its own), twice."""
    batch, scales = patches.shape[:2]
    maps = patches.reshape(batch * scales, *patches.shape[2:])
    for convolution in network.convolutions:
        kernel, bias = convolution.kernel.numpy(), convolution.bias.numpy()
        count, side, _, _ = maps.shape
        padded = np.pad(maps, ((0, 0), (1, 1), (1, 1), (0, 0)))
        out = np.zeros((count, side, side, kernel.shape[-1]), np.float32)
        for row in range(side):
            for col in range(side):
                window = padded[:, row:row + 3, col:col + 3, :]
                out[:, row, col] = np.einsum("nijc,ijcf->nf", window, kernel) + bias
        out = np.maximum(out, 0.0)
        pooled_side = -(-side // 2)
        maps = np.stack([np.stack([out[:, 2 * r:2 * r + 2, 2 * c:2 * c + 2].max(axis=(1, 2))
                                   for c in range(pooled_side)], 1) for r in range(pooled_side)], 1)
    return maps.reshape(batch, -1)


def test_convolutional_glimpse_features_match_a_numpy_reference(tmp_path):
    # Patch side 6: 6 -> 3 after the first pooling, 3 -> 2 after the second (the odd case).
    config = small_config(dataset="images", num_classes=3, num_scales=2, patch_size=6, channels=3,
                          image_size=24, unit_pixels=6.0, glimpse_conv_filters=2)
    model = model_module.RecurrentAttentionModel(config, seed=0)
    network = model.glimpse_network
    assert [c.filters for c in network.convolutions] == [2, 4]
    assert network.glimpse_dense.kernel.shape == (2 * 2 * 2 * 4, config.glimpse_hidden)
    rng = np.random.default_rng(4)
    for convolution in network.convolutions:
        convolution.bias.assign(rng.normal(0.0, 0.3, convolution.bias.shape).astype(np.float32))
    patches = rng.normal(0.0, 1.0, (3, 2, 6, 6, 3)).astype(np.float32)
    np.testing.assert_allclose(network.features(patches).numpy(),
                               reference_conv_features(network, patches), rtol=1e-5, atol=1e-5)
    # Without convolutions W reads the raw pixels, and no convolution weights exist.
    plain = model_module.RecurrentAttentionModel(small_config(num_scales=2), seed=0)
    assert not plain.glimpse_network.convolutions
    assert not any("conv" in path for path in plain.weight_dict())
    # network.h5 round trip: the config stored with the weights rebuilds the convolutions.
    path = tmp_path / "network.h5"
    storage.save_weights(model, path)
    stored = config_module.as_model_config(storage.read_weights_config(path))
    assert stored.glimpse_conv_filters == 2
    rebuilt = model_module.RecurrentAttentionModel(stored, seed=0)
    storage.load_weights(rebuilt, path)
    np.testing.assert_array_equal(rebuilt.glimpse_network.features(patches).numpy(),
                                  network.features(patches).numpy())
