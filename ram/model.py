"""The networks of the Recurrent Attention Model (Mnih et al., 2014) and the model that rolls them out.

One episode of `T = num_glimpses` steps, for a batch of images:

    h_0 = 0
    for t in 1..T:
        mu_t = LocationNetwork(h_{t-1})                      location mean, tanh, in [-1, 1]
        l_t  = mu_t + location_std * eps (training) or mu_t  sampled location
        b_t  = BaselineNetwork(stop_gradient(h_{t-1}))       expected reward of the episode
        g_t  = GlimpseNetwork(retina(x, l_t), l_t)
        h_t  = CoreNetwork(g_t, h_{t-1})
    logits = ActionNetwork(h_T)

`play` runs the same steps on a game (Catch, ram/catch.py): the screen changes every frame, and the
action network reads every `h_t` to choose a game action `a_t`; the only reward is the game's end.

The location network chooses the first glimpse too, from the zero state: its bias learns where to
look first. Gradients are kept apart on purpose: the classifier's cross-entropy reaches the glimpse,
core and action networks only (the location enters the glimpse network as a constant, and `l_t` is
a constant in its own log-probability), and the baseline's squared error reaches only the baseline
network. REINFORCE reaches the location network and, through `h_{t-1}`, the core and glimpse
networks, as in the Torch reference (`policy_trains_core`, the default; `policy_core_gradient`
scales what reaches them); with `policy_trains_core = False` the location network reads
`stop_gradient(h_{t-1})` and REINFORCE trains it alone.

Every layer and the model are registered Keras serializables (package "ram"): `model.save(
"model.keras")` and `keras.saving.load_model("model.keras")` round-trip them.
"""

import math

from ram.backend import keras
from ram import config as config_module
from ram import glimpse


@keras.saving.register_keras_serializable(package="ram")
class GlimpseNetwork(keras.layers.Layer):
    """g = relu(W_g(relu(W_rho(rho))) + W_l(relu(W_loc(l)))): glimpse `[B, k, g, g, c]`, `l` `[B, 2]` -> `[B, glimpse_size]`.

    `conv_filters = N > 0` reads each scale's patch through two 3x3 convolutions first (N and 2N
    filters, each ReLU then 2x2 max-pooling, the same kernels for every scale), and `W_rho` reads
    their features instead of the raw pixels (as the glimpse networks of Ba et al. 2015 do): the
    option for colour images and photos; 0 is the paper's network.
    """

    def __init__(self, glimpse_hidden, location_hidden, glimpse_size, conv_filters=0, **kwargs):
        super().__init__(**kwargs)
        self.conv_filters = conv_filters
        self.convolutions = [
            keras.layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv_{i}")
            for i, filters in enumerate((conv_filters, 2 * conv_filters) if conv_filters else ())]
        self.pool = keras.layers.MaxPooling2D(2, padding="same", name="pool")
        self.glimpse_dense = keras.layers.Dense(glimpse_hidden, activation="relu", name="glimpse_dense")
        self.location_dense = keras.layers.Dense(location_hidden, activation="relu",
                                                 name="location_dense")
        # W(h_g) + W(h_l) is one matrix product on the concatenation [h_g, h_l].
        self.output_dense = keras.layers.Dense(glimpse_size, activation="relu", name="output_dense")

    def get_config(self):
        return {**super().get_config(), "glimpse_hidden": self.glimpse_dense.units,
                "location_hidden": self.location_dense.units,
                "glimpse_size": self.output_dense.units, "conv_filters": self.conv_filters}

    def build(self, patches_shape, locations_shape):
        scales, side, _, channels = patches_shape[1:]
        for convolution in self.convolutions:
            convolution.build((None, side, side, channels))
            side, channels = -(-side // 2), convolution.filters  # "same" pooling: ceil(side / 2)
        self.glimpse_dense.build((None, scales * side * side * channels))
        self.location_dense.build((None, 2))
        self.output_dense.build((None, self.glimpse_dense.units + self.location_dense.units))

    def features(self, patches):
        """What W_rho reads, `[B, features]`: the raw patches, or their convolution features."""
        batch = keras.ops.shape(patches)[0]
        if self.convolutions:
            # The scales join the batch, so that every scale goes through the same kernels.
            patches = keras.ops.reshape(patches, (-1, *patches.shape[2:]))
            for convolution in self.convolutions:
                patches = self.pool(convolution(patches))
        return keras.ops.reshape(patches, (batch, -1))

    def call(self, patches, locations):
        hidden_glimpse = self.glimpse_dense(self.features(patches))
        hidden_location = self.location_dense(locations)
        return self.output_dense(keras.ops.concatenate([hidden_glimpse, hidden_location], axis=-1))


@keras.saving.register_keras_serializable(package="ram")
class CoreNetwork(keras.layers.Layer):
    """h_t = relu(W_h(h_{t-1}) + W_g(g_t)) ("rnn") or an LSTM cell ("lstm"): `g_t` `[B, G]` -> `h_t` `[B, H]`.

    The state is a list: `[h]` for "rnn", `[h, c]` for "lstm".
    """

    def __init__(self, core_size, core_type="rnn", **kwargs):
        super().__init__(**kwargs)
        if core_type not in ("rnn", "lstm"):
            raise ValueError(f"core_type must be 'rnn' or 'lstm', got {core_type!r}")
        self.core_size = core_size
        self.core_type = core_type
        if core_type == "rnn":
            # W_h(h) + W_g(g) is one matrix product on [h, g].
            self.dense = keras.layers.Dense(core_size, activation="relu", name="recurrent_dense")
        else:
            self.cell = keras.layers.LSTMCell(core_size, name="lstm_cell")

    def get_config(self):
        return {**super().get_config(), "core_size": self.core_size, "core_type": self.core_type}

    def build(self, input_shape):
        if self.core_type == "rnn":
            self.dense.build((None, input_shape[-1] + self.core_size))
        else:
            self.cell.build((None, input_shape[-1]))

    def initial_state(self, batch_size):
        zeros = keras.ops.zeros((batch_size, self.core_size), dtype=self.compute_dtype)
        return [zeros] if self.core_type == "rnn" else [zeros, zeros]

    def call(self, inputs, state=None):
        """One step from `state`; `state=None` is the zero state `h_0`, the first step of an episode."""
        if self.core_type == "rnn":
            if state is None:
                # W_h(0) is zero: the first step needs only the product of g with W_g, the rows of
                # the kernel after the first core_size (the input is the concatenation [h, g]).
                kernel = keras.ops.cast(self.dense.kernel[self.core_size:], self.compute_dtype)
                bias = keras.ops.cast(self.dense.bias, self.compute_dtype)
                hidden = self.dense.activation(keras.ops.matmul(inputs, kernel) + bias)
            else:
                hidden = self.dense(keras.ops.concatenate([state[0], inputs], axis=-1))
            return hidden, [hidden]
        if state is None:
            state = self.initial_state(keras.ops.shape(inputs)[0])
        hidden, new_state = self.cell(inputs, state)
        return hidden, list(new_state)


@keras.saving.register_keras_serializable(package="ram")
class LocationNetwork(keras.layers.Layer):
    """mu = tanh(W(h)) (optionally through one relu hidden layer): `h` `[B, H]` -> `mu` `[B, 2]` in `[-1, 1]`."""

    def __init__(self, hidden_units=0, **kwargs):
        super().__init__(**kwargs)
        self.hidden_units = hidden_units
        self.hidden = (keras.layers.Dense(hidden_units, activation="relu", name="hidden_dense")
                       if hidden_units else None)
        self.mean = keras.layers.Dense(2, activation="tanh", name="mean_dense", dtype="float32")

    def get_config(self):
        return {**super().get_config(), "hidden_units": self.hidden_units}

    def build(self, input_shape):
        if self.hidden is not None:
            self.hidden.build(input_shape)
            input_shape = (None, self.hidden_units)
        self.mean.build(input_shape)

    def call(self, hidden):
        if self.hidden is not None:
            hidden = self.hidden(hidden)
        return self.mean(hidden)


@keras.saving.register_keras_serializable(package="ram")
class ActionNetwork(keras.layers.Layer):
    """logits = W(h_T): `[B, H]` -> `[B, num_classes]` (float32)."""

    def __init__(self, num_classes, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.dense = keras.layers.Dense(num_classes, name="logits_dense", dtype="float32")

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}

    def build(self, input_shape):
        self.dense.build(input_shape)

    def call(self, hidden):
        return self.dense(hidden)


@keras.saving.register_keras_serializable(package="ram")
class BaselineNetwork(keras.layers.Layer):
    """b_t = W(h_{t-1}): `[B, H]` -> `[B]`, the expected reward, for variance reduction."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(1, name="baseline_dense", dtype="float32")

    def build(self, input_shape):
        self.dense.build(input_shape)

    def call(self, hidden):
        return self.dense(hidden)[:, 0]


def gaussian_log_prob(sample, mean, std):
    """log N(sample; mean, std^2 I), summed over the last axis (x and y)."""
    z = (sample - mean) / std
    log_std = math.log(std) if isinstance(std, (int, float)) else keras.ops.log(std)
    return keras.ops.sum(-0.5 * z * z - log_std - 0.5 * math.log(2.0 * math.pi), axis=-1)


@keras.saving.register_keras_serializable(package="ram")
class RecurrentAttentionModel(keras.Model):
    """The whole model for `config.num_glimpses` glimpses; see the module docstring.

    `config` is a `ram.config.ModelConfig` (or a `Config`, or a dict of model fields); `seed` seeds
    the location noise.

    `model(images)` and `model.predict(images)` return class probabilities `[B, classes]` of one
    deterministic episode per image (the policy's mean locations), as a Keras user expects.
    `model.rollout(images, ...)` returns the whole episode. Both take float images `[B, H, W, C]`
    in `[0, 1]`, or uint8 images in `[0, 255]` (scaled by 1/255 in the retina, after an exact
    summed-area table of whole numbers: the training and evaluation steps pass the data's uint8
    batches as they are). `rollout` returns a dict:
    `logits` `[B, classes]`, `locations` `[B, T, 2]` (the clipped locations looked at), `means`
    `[B, T, 2]`, `log_probs` `[B, T]` and `baselines` `[B, T]`. With `training=True` locations are
    sampled around the means; otherwise they are the means, unless `sample=True`. `episodes=M`
    rolls each image out M times, each with its own noise: the outputs then hold `B * M` episodes,
    image-major (the order of `tf.repeat(images, M, axis=0)`), the same as passing the repeated
    images but faster, since the summed-area table is made once per image.
    """

    def __init__(self, config, seed=None, **kwargs):
        kwargs.setdefault("name", "recurrent_attention_model")
        super().__init__(**kwargs)
        self.config = config = config_module.as_model_config(config).check_resolved()
        self.seed = seed
        self.glimpse_network = GlimpseNetwork(config.glimpse_hidden, config.location_hidden,
                                              config.glimpse_size, config.glimpse_conv_filters,
                                              name="glimpse_network")
        self.core_network = CoreNetwork(config.core_size, config.core_type, name="core_network")
        self.location_network = LocationNetwork(config.location_network_hidden,
                                                name="location_network")
        self.action_network = ActionNetwork(config.num_classes, name="action_network")
        self.baseline_network = BaselineNetwork(name="baseline_network")
        self.seed_generator = keras.random.SeedGenerator(seed, name="location_noise")
        self.build_all()

    def build_all(self):
        """Creates every weight now, so weights can be loaded before the first call."""
        c = self.config
        glimpse_shape = (None, c.num_scales, c.patch_size, c.patch_size, c.channels)
        self.glimpse_network.build(glimpse_shape, (None, 2))
        self.core_network.build((None, c.glimpse_size))
        self.location_network.build((None, c.core_size))
        self.action_network.build((None, c.core_size))
        self.baseline_network.build((None, c.core_size))
        self.built = True

    def glimpse(self, images, locations, table=None, normalize=True):
        """The retina's patches `[B, k, g, g, C]` at `locations`, as the glimpse network sees them
        (`normalize=False`: before `glimpse_normalization`, for pictures); `table` is the images'
        `glimpse.summed_area_table` when already computed."""
        c = self.config
        if table is None and c.num_scales > 1:
            table = glimpse.summed_area_table(images)
        patches = glimpse.retina_from_table(images, table, locations, c.patch_size, c.num_scales,
                                            c.scale_factor, c.unit_pixels)
        # uint8 pixels (0-255) become [0, 1] only here, after the exact table of whole-number sums.
        if keras.backend.standardize_dtype(images.dtype) == "uint8":
            patches = patches / 255.0
        if normalize and c.glimpse_normalization == "block_sum":
            # Each coarse receptor reports the light of its whole block, not its mean (clipped at
            # 1): a one-pixel ball stays as bright at every scale instead of fading 4x per scale.
            gains = [float(c.scale_factor ** (2 * scale)) for scale in range(c.num_scales)]
            patches = keras.ops.minimum(
                patches * keras.ops.reshape(keras.ops.convert_to_tensor(gains, patches.dtype),
                                            (1, -1, 1, 1, 1)), 1.0)
        if normalize and c.glimpse_normalization in ("patch_mean", "patch_contrast"):
            # Each patch less its mean per channel: what differs inside the patch, not the colour
            # of its background (on colour images, raw pixels far from zero leave the glimpse
            # network's units dead).
            patches = patches - keras.ops.mean(patches, axis=(2, 3), keepdims=True)
            if c.glimpse_normalization == "patch_contrast":
                # ...and only how far: a digit darker or lighter than its background, in any
                # colour, looks alike.
                patches = keras.ops.abs(patches)
        return patches

    def get_config(self):
        return {"config": self.config.to_dict(), "seed": self.seed, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def call(self, images, training=False):
        """Class probabilities `[B, classes]` of one episode per image: deterministic (the
        policy's means), or with sampled locations when `training`."""
        return keras.ops.softmax(self.rollout(images, training=training)["logits"], axis=-1)

    def rollout(self, images, training=False, sample=None, episodes=1, noise=None, std=None,
                core_gradient=None):
        """One episode per image (`episodes` per image); see the class docstring for the outputs.

        `noise` `[B * episodes, T, 2]`, standard normal, replaces the draws from the model's seed
        generator (the distributed step draws it per example, so no replica changes it). `std`
        (a float or a scalar tensor) replaces the config's `location_std` (the trainer anneals it
        from `initial_location_std`). `core_gradient` (the same) replaces `policy_core_gradient`
        (the trainer warms it up over `policy_core_gradient_warmup` epochs)."""
        sample = training if sample is None else sample
        images = keras.ops.convert_to_tensor(images)
        if len(images.shape) == 3:  # Grey images without a channel axis.
            images = keras.ops.expand_dims(images, -1)
        std = self.config.location_std if std is None else std
        # One summed-area table per batch serves every glimpse's coarse scales; with several
        # episodes per image it is made once per image, before the images are repeated.
        table = glimpse.summed_area_table(images) if self.config.num_scales > 1 else None
        if episodes > 1:
            images = keras.ops.repeat(images, episodes, axis=0)
            table = None if table is None else keras.ops.repeat(table, episodes, axis=0)
        batch = keras.ops.shape(images)[0]
        # mean_path_episode: the first of each image's episodes looks where the policy means (the
        # path a test image gets), so the classifier also trains on it; its REINFORCE term is zero.
        noise_scale = std
        if training and sample and episodes > 1 and self.config.mean_path_episode:
            first = keras.ops.cast(keras.ops.arange(batch) % episodes == 0, "float32")
            noise_scale = std * (1.0 - first)[:, None]
        state, hidden = None, None  # h_0 = 0; the first step below computes only what it needs.
        locations, means, log_probs, baselines = [], [], [], []
        for step in range(self.config.num_glimpses):
            location, mean, log_prob, baseline = self._next_location(
                hidden, batch, sample, noise_scale, std, None if noise is None else noise[:, step],
                core_gradient)
            hidden, state = self._look(images, table, location, state)
            locations.append(location)
            means.append(mean)
            log_probs.append(log_prob)
            baselines.append(baseline)
        return {
            "logits": self.action_network(hidden),
            "locations": keras.ops.stack(locations, axis=1),
            "means": keras.ops.stack(means, axis=1),
            "log_probs": keras.ops.stack(log_probs, axis=1),
            "baselines": keras.ops.stack(baselines, axis=1),
        }

    def _next_location(self, hidden, batch, sample, noise_scale, std, noise=None,
                       core_gradient=None):
        """Where to look next from the core state `hidden` (None: h_0 = 0) and what the episode is
        expected to earn: `(location (clipped), mean, log-probability, baseline)`; `std` is the
        policy's (its log-probability's), `noise_scale` what scales the sample's `noise` `[B, 2]`,
        the standard normal draw to use (default: from the seed generator); `core_gradient` as in
        `rollout`."""
        if hidden is None:
            # h_0 is the same zero vector for every episode, so the first location mean and
            # baseline are too: computed once, on one row, and broadcast to the batch.
            zero = self.core_network.initial_state(1)[0]
            mean = keras.ops.broadcast_to(self.location_network(zero), (batch, 2))
            baseline = keras.ops.broadcast_to(self.baseline_network(zero), (batch,))
        else:
            stopped = keras.ops.stop_gradient(hidden)
            mean = self.location_network(self._policy_input(hidden, stopped, core_gradient))
            baseline = self.baseline_network(stopped)
        if sample:
            if noise is None:
                noise = keras.random.normal(keras.ops.shape(mean), seed=self.seed_generator)
            location = keras.ops.stop_gradient(mean + noise_scale * noise)
        else:
            location = keras.ops.stop_gradient(mean)
        log_prob = gaussian_log_prob(location, mean, std)
        return keras.ops.clip(location, -1.0, 1.0), mean, log_prob, baseline

    def _policy_input(self, hidden, stopped, scale=None):
        """What the location network reads: h_{t-1}, through which REINFORCE reaches the core and
        glimpse networks only with policy_trains_core (the Torch reference, and the default), and
        then scaled by `scale` (default policy_core_gradient; the forward value is h_{t-1} either
        way)."""
        if not self.config.policy_trains_core:
            return stopped
        scale = self.config.policy_core_gradient if scale is None else scale
        if isinstance(scale, (int, float)) and scale == 1.0:
            return hidden
        return stopped + keras.ops.cast(scale, hidden.dtype) * (hidden - stopped)

    def _look(self, images, table, location, state):
        """One glimpse at `location` through the glimpse and core networks: `(h_t, state)`."""
        patches = self.glimpse(images, location, table)
        features = self.glimpse_network(keras.ops.cast(patches, self.compute_dtype),
                                        keras.ops.cast(location, self.compute_dtype))
        return self.core_network(features, state)

    def play(self, games, environment, training=False, sample=None, sample_actions=None,
             std=None, core_gradient=None):
        """Plays one game per row of `games` (starting states, see ram/catch.py) in
        `environment`: each frame a glimpse of the current screen, then a game action from the
        action network on the new core state, `a_t ~ softmax(ActionNetwork(h_t))` (sampled in
        training or with `sample_actions`, else the most probable). The same networks and step as
        `rollout`; only the head differs: an action every step instead of a class at the end.

        Returns a dict: `rewards` `[B]` (1 for a catch), `actions` `[B, T]`, `action_log_probs`
        `[B, T]`, `action_entropies` `[B, T]` (of the action policy), `balls` `[B, T]` (the ball's column in each frame), and `locations`, `means`,
        `log_probs`, `baselines` `[B, T, ...]` as `rollout` returns them. `std` and
        `core_gradient` as in `rollout`.
        """
        sample = training if sample is None else sample
        std = self.config.location_std if std is None else std
        sample_actions = sample if sample_actions is None else sample_actions
        games = keras.ops.convert_to_tensor(games, "float32")
        batch = keras.ops.shape(games)[0]
        state, hidden = None, None
        outputs = {name: [] for name in ("locations", "means", "log_probs", "baselines",
                                         "actions", "action_log_probs", "action_entropies",
                                         "balls")}
        for frame in range(self.config.num_glimpses):
            screens = environment.render(games, frame)
            table = glimpse.summed_area_table(screens) if self.config.num_scales > 1 else None
            location, mean, log_prob, baseline = self._next_location(
                hidden, batch, sample, std, std, core_gradient=core_gradient)
            hidden, state = self._look(screens, table, location, state)
            logits = self.action_network(hidden)
            if sample_actions:
                actions = keras.random.categorical(logits, 1, seed=self.seed_generator)[:, 0]
            else:
                actions = keras.ops.argmax(logits, axis=-1)
            actions = keras.ops.cast(actions, "int32")
            log_policy = keras.ops.log_softmax(logits, axis=-1)
            action_log_prob = keras.ops.take_along_axis(log_policy, actions[:, None], axis=-1)[:, 0]
            action_entropy = -keras.ops.sum(keras.ops.exp(log_policy) * log_policy, axis=-1)
            for name, value in (("locations", location), ("means", mean), ("log_probs", log_prob),
                                ("baselines", baseline), ("actions", actions),
                                ("action_log_probs", action_log_prob),
                                ("action_entropies", action_entropy),
                                ("balls", environment.ball_columns(games))):
                outputs[name].append(value)
            games = environment.move(games, actions)
        outputs = {name: keras.ops.stack(values, axis=1) for name, values in outputs.items()}
        outputs["rewards"] = environment.caught(games)
        return outputs

    def weight_dict(self):
        """`{path: variable}` of every weight saved in `network.h5` (the noise state is not one)."""
        return {variable.path: variable for variable in self.weights
                if "seed_generator" not in variable.path and "location_noise" not in variable.path}
