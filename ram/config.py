"""Every hyperparameter of a run: its section, default, type, valid range and meaning.

The fields are grouped in sections, one dataclass each, and every default lives in exactly one
place, its section below:

* `DataConfig`: where the images come from and how they are split.
* `ModelConfig`: everything that rebuilds a model (its input, retina, networks and the location
  policy its rollout samples from). The model receives only this section, and `network.json`'s
  model part is exactly it.
* `LossConfig`: how the hybrid loss weighs and rewards the episodes.
* `OptimizationConfig`: optimizer, schedule, batches, epochs, early stopping.
* `RuntimeConfig`: runs, seeds and speed settings that never change what a run learns.

`Config` is all five at once, flat: a run script (`run_mnist.py`, ...) assigns module-level
UPPER_CASE names for the fields its task sets differently from these defaults (`PATCH_SIZE = 12`),
`Config.from_module` reads them, `Config.with_overrides` applies `--set key=value` strings, and
`Config.validate` rejects anything out of range with a `ConfigError` whose message names the field.
The defaults are the values the paper's tasks share; each run script states only what its task
changes, with a one-line reason.
"""

import dataclasses
import importlib
import inspect
import json
import pathlib
import re
import sys

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent
# Run modules live at the top level of the project; only these names can be loaded by name.
_MODULE_NAME = re.compile(r"^run_[a-z0-9_]+$")

DATASETS = ("mnist", "translated", "cluttered", "images", "catch")
# The datasets made from the bundled MNIST (grey, 28x28 digits); "images" are a user's own.
MNIST_DATASETS = ("mnist", "translated", "cluttered")
CORE_TYPES = ("rnn", "lstm")
OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("constant", "linear", "cosine")
REWARDS = ("correct", "probability")
ADVANTAGE_BASELINES = ("learned", "episodes")
CHANNELS = (1, 3)
RESIZES = ("pad", "stretch")
GLIMPSE_NORMALIZATIONS = ("none", "patch_mean", "patch_contrast", "block_sum")
TASKS = ("classify", "play")
DISTRIBUTE = ("none", "mirrored", "multiworker")
# Keras dtype policies: "mixed_bfloat16" computes the layers in bfloat16 (weights, the location
# policy, logits, baseline and losses stay float32). float16 is not offered: it needs loss scaling.
PRECISIONS = ("float32", "mixed_bfloat16")


class ConfigError(ValueError):
    """A configuration value, override or module name that cannot be used."""


class _Section:
    """What every section shares: type checks, and a dict of its own fields."""

    def check_types(self):
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            expected = _field_type(field)
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
                setattr(self, field.name, value)
            if expected is int and isinstance(value, bool) or not isinstance(value, expected):
                raise ConfigError(f"{field.name} must be {expected.__name__}, got {value!r}")

    def check(self):
        """Raises `ConfigError` for a value out of range (each section checks its own fields)."""

    def validate(self):
        """Raises `ConfigError` naming the first field that is out of range; returns self."""
        self.check_types()
        self.check()
        return self

    def to_dict(self):
        return dataclasses.asdict(self)

    def to_json(self):
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def field_names(cls):
        return [field.name for field in dataclasses.fields(cls)]

    @classmethod
    def from_dict(cls, values):
        """Builds a validated section from a dict; unknown keys are an error, missing ones take
        their defaults (so files written before a field existed still load)."""
        if not isinstance(values, dict):
            raise ConfigError(f"a config must be a mapping of field names to values, got {values!r}")
        unknown = sorted(set(values) - set(cls.field_names()))
        if unknown:
            raise ConfigError(f"unknown config key(s): {', '.join(unknown)}")
        return cls(**values).validate()


@dataclasses.dataclass
class DataConfig(_Section):
    """Where the images come from and how they are split."""

    dataset: str = "mnist"  # "mnist" (28x28 digits), "translated", "cluttered" (on a canvas); "images": your own; "catch": the game.
    num_clutter: int = 0  # Pieces of clutter pasted on each cluttered image.
    clutter_curriculum: int = 0  # Cluttered: over this many first epochs training canvases carry fewer pieces, from none up to num_clutter; 0 = off.
    clutter_size: int = 8  # Side of each square piece of clutter, in pixels.
    validation_size: int = 6000  # Training images held out (seeded) for validation and model selection.
    train_shift: int = 0  # Shift each training image by up to this many pixels (MNIST digits: zero fill; own images: edge fill); 0 = off.
    train_recolour: bool = False  # Own images: each training image in a random colouring every epoch (channels shuffled, each inverted or not); only where colour says nothing about the class.
    test_fraction: float = 0.1  # Own images without a test/ folder: the share of each class held out for testing.
    validation_fraction: float = 0.1  # Own images: the share of each class's training images held out for validation (unless a validation/ folder gives them).
    split_seed: int = 0  # Own images: seed of the stratified test and validation splits (the same for every run).
    resize: str = "pad"  # Own images of another size: "pad" (keep the aspect, pad with black) or "stretch".
    memory_limit_mb: int = 4096  # Own images: decoded training images above this stream from disk each epoch.
    games_per_epoch: int = 16384  # Catch: fresh training games per epoch (validation_size games validate).
    paddle_width: int = 2  # Catch: the paddle's width in pixels.
    ball_speed: float = 1.0  # Catch: the ball's sideways speed is uniform in [-ball_speed, ball_speed] columns a frame.
    ball_speed_curriculum: int = 0  # Catch: over this many first epochs the training ball's top speed rises from half of ball_speed; 0 = off.

    def check(self):
        _choice("dataset", self.dataset, DATASETS)
        _choice("resize", self.resize, RESIZES)
        _at_least(self, 0, "split_seed", "memory_limit_mb")
        for name in ("test_fraction", "validation_fraction"):
            if not 0 <= getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 0 and below 1, got {getattr(self, name)}")
        _at_least(self, 1, "clutter_size", "validation_size", "games_per_epoch", "paddle_width")
        _at_least(self, 0, "ball_speed_curriculum")
        _not_negative(self, "ball_speed")
        _at_least(self, 0, "num_clutter", "train_shift", "clutter_curriculum")
        if self.dataset == "cluttered" and self.clutter_size > 28:
            raise ConfigError(f"clutter_size must be at most 28, got {self.clutter_size}")
        if self.validation_size >= 60000:
            raise ConfigError(
                f"validation_size must leave training images, got {self.validation_size}")


@dataclasses.dataclass
class ModelConfig(_Section):
    """Everything that rebuilds a model: input, retina (ram/glimpse.py), networks, location policy."""

    image_size: int = 28  # Side of the square input image (the canvas for translated/cluttered); own images: 0 = from the data.
    channels: int = 1  # Colour channels of the input: 1 (grey) or 3 (RGB); own images: 0 = from the data.
    patch_size: int = 8  # Side g of each glimpse patch after downsampling; own images: 0 = by the rule in ram/images.py.
    num_scales: int = 1  # Number of patches k per glimpse; own images: 0 = by the rule in ram/images.py.
    scale_factor: int = 2  # Each scale covers scale_factor times the side of the one before.
    unit_pixels: float = 13.0  # Pixels from the image centre to a location coordinate of +/-1; own images: 0 = by rule.
    glimpse_normalization: str = "none"  # "none" (the paper); "patch_mean": each patch less its mean per channel; "patch_contrast": the absolute value of that; "block_sum": coarse scales sum their blocks.
    glimpse_hidden: int = 128  # Units of h_g = relu(W(rho)).
    glimpse_conv_filters: int = 0  # 0: W reads the raw patches (the paper); N: two 3x3 convolutions (N, 2N filters, each ReLU and 2x2 max-pool, shared by the scales) first; on CPUs train it with jit_compile=False (benchmarks/glimpse_network.py).
    location_hidden: int = 128  # Units of h_l = relu(W(l)).
    glimpse_size: int = 256  # Units of the glimpse representation g = relu(W(h_g) + W(h_l)).
    core_size: int = 256  # Units of the core state h_t.
    core_type: str = "rnn"  # "rnn": h_t = relu(W(h_{t-1}) + W(g_t)) (the paper); "lstm": an LSTM cell.
    location_network_hidden: int = 128  # Hidden units of the location network (kevinzakka PR #32); 0 = linear.
    num_glimpses: int = 7  # Glimpses T per image (Catch: frames per game); the class is read from the last core state.
    num_classes: int = 10  # Output classes (Catch: game actions); own images: 0 = from the data.
    class_names: str = ""  # The classes' names, comma-separated, in label order ("" = the label numbers).
    location_std: float = 0.1  # Standard deviation of the Gaussian location policy in training.
    policy_trains_core: bool = True  # REINFORCE also trains the core and glimpse networks via h_{t-1} (Torch reference).
    policy_core_gradient: float = 1.0  # With policy_trains_core: the share of that REINFORCE gradient reaching the core (1 = all).
    mean_path_episode: bool = False  # With M >= 2, each image's first training episode follows the policy's means.
    task: str = "classify"  # "classify": a class from the last core state; "play": an action every step (Catch).

    def names(self):
        """The class names as a list (empty when not given)."""
        return [name.strip() for name in self.class_names.split(",")] if self.class_names else []

    def class_name(self, label):
        names = self.names()
        return names[label] if label < len(names) else str(label)

    def check_resolved(self):
        """Raises `ConfigError` if a field is still 0 ("from the data"): a model needs them all."""
        for name in self.FROM_DATA:
            if not getattr(self, name):
                raise ConfigError(f"{name} is 0 ('from the data'): resolve the config against its "
                                  "data before building a model")
        return self

    # Fields whose 0 means "from the data" (own images), resolved before a model is built.
    FROM_DATA = ("image_size", "channels", "patch_size", "num_scales", "unit_pixels", "num_classes")

    def check(self):
        _choice("core_type", self.core_type, CORE_TYPES)
        _choice("glimpse_normalization", self.glimpse_normalization, GLIMPSE_NORMALIZATIONS)
        _choice("task", self.task, TASKS)
        if self.channels:
            _choice("channels", self.channels, CHANNELS)
        _at_least(self, 1, "scale_factor", "glimpse_hidden", "location_hidden", "glimpse_size",
                  "core_size", "num_glimpses")
        _at_least(self, 0, "glimpse_conv_filters", "location_network_hidden", "image_size",
                  "patch_size", "num_scales", "num_classes")
        if self.num_classes == 1:
            raise ConfigError(f"num_classes must be at least 2, got {self.num_classes}")
        _not_negative(self, "unit_pixels", "policy_core_gradient")
        _positive(self, "location_std")
        names = self.names()
        if names and self.num_classes and len(names) != self.num_classes:
            raise ConfigError(f"class_names names {len(names)} classes, num_classes is "
                              f"{self.num_classes}")
        if self.image_size and self.patch_size > self.image_size:
            raise ConfigError(
                f"patch_size ({self.patch_size}) is larger than the image ({self.image_size})")


@dataclasses.dataclass
class LossConfig(_Section):
    """How the hybrid loss weighs and rewards the episodes (ram/losses.py)."""

    reinforce_weight: float = 0.1  # Weight lambda of the REINFORCE term against the cross-entropy.
    baseline_weight: float = 1.0  # Weight of the baseline's mean squared error to the reward.
    episodes_per_image: int = 1  # Sampled episodes M per training image; the losses average them all.
    reward: str = "correct"  # REINFORCE reward: "correct" (1 if right, the paper) or "probability" (p(y)).
    advantage_baseline: str = "learned"  # "learned" (b_t) or "episodes" (the image's other episodes).
    action_entropy_weight: float = 0.0  # Catch: weight of the game-action policy's entropy bonus (exploration); 0 = off.

    def check(self):
        _choice("reward", self.reward, REWARDS)
        _choice("advantage_baseline", self.advantage_baseline, ADVANTAGE_BASELINES)
        _at_least(self, 1, "episodes_per_image")
        _not_negative(self, "reinforce_weight", "baseline_weight", "action_entropy_weight")
        if self.advantage_baseline == "episodes" and self.episodes_per_image < 2:
            raise ConfigError("advantage_baseline='episodes' needs episodes_per_image of 2 or more, "
                              f"got {self.episodes_per_image}")


@dataclasses.dataclass
class OptimizationConfig(_Section):
    """Optimizer, learning-rate schedule, batches, epochs and early stopping."""

    optimizer: str = "adam"  # "adam" or "sgd" (with momentum).
    learning_rate: float = 1e-3  # Initial learning rate.
    final_learning_rate: float = 1e-5  # Learning rate reached at the last epoch by the schedule.
    initial_location_std: float = 0.0  # Start training with this location std, linearly to location_std at the last epoch; 0 = constant.
    policy_core_gradient_warmup: int = 0  # With policy_trains_core: policy_core_gradient rises linearly from 0 at the first epoch to its value after this many; 0 = constant.
    schedule: str = "cosine"  # "constant", "linear" or "cosine" decay over all epochs.
    momentum: float = 0.9  # Momentum for SGD (ignored by Adam).
    clip_norm: float = 5.0  # Global gradient-norm clip; 0 turns it off.
    batch_size: int = 128  # Training batch size (images; each gives episodes_per_image episodes).
    eval_batch_size: int = 1000  # Batch size for validation and test.
    epochs: int = 200  # Training epochs; the weights of the best validation epoch are kept.
    patience: int = 0  # Stop after this many epochs without a better validation accuracy; 0 = never.

    def check(self):
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        _choice("schedule", self.schedule, SCHEDULES)
        _at_least(self, 1, "batch_size", "eval_batch_size", "epochs")
        _at_least(self, 0, "patience", "policy_core_gradient_warmup")
        _positive(self, "learning_rate")
        _not_negative(self, "final_learning_rate", "initial_location_std", "clip_norm", "momentum")
        if self.momentum >= 1:
            raise ConfigError(f"momentum must be below 1, got {self.momentum}")


@dataclasses.dataclass
class RuntimeConfig(_Section):
    """Runs, seeds, reporting and speed settings."""

    runs: int = 3  # Independent training runs started by main().
    seed: int = 0  # Seed of the first run; run i uses seed + i.
    test_samples: int = 10  # Also report the test accuracy of the mean of this many sampled episodes; 0 = off.
    jit_compile: bool = True  # Compile the train and eval steps with XLA (faster on CPU, except with glimpse_conv_filters).
    steps_per_execution: int = 10  # Train steps per call of the compiled step (a loop inside it; same weights).
    distribute: str = "none"  # "none" (one device), "mirrored" (the local GPUs or CPUs), "multiworker" (TF_CONFIG's cluster).
    worker_timeout: int = 120  # multiworker: seconds a worker waits for the others before it gives up.
    cpu_replicas: int = 0  # mirrored on a machine without GPUs: split the CPU into this many devices (0: one).
    precision: str = "float32"  # Or "mixed_bfloat16": layers compute in bfloat16 (GPUs, TPUs; slower on most CPUs).

    def check(self):
        _at_least(self, 1, "runs", "steps_per_execution", "worker_timeout")
        _choice("distribute", self.distribute, DISTRIBUTE)
        _choice("precision", self.precision, PRECISIONS)
        _at_least(self, 0, "seed", "test_samples", "cpu_replicas")


SECTIONS = (DataConfig, ModelConfig, LossConfig, OptimizationConfig, RuntimeConfig)


@dataclasses.dataclass
class Config(RuntimeConfig, OptimizationConfig, LossConfig, ModelConfig, DataConfig):
    """Every field of every section, flat (fields in section order: data, model, loss,
    optimization, runtime)."""

    def check(self):
        for section in SECTIONS:
            section.check(self)
        unresolved = [name for name in ModelConfig.FROM_DATA if not getattr(self, name)]
        if self.dataset != "images" and unresolved:
            raise ConfigError(f"{unresolved[0]} must be positive for the {self.dataset} dataset "
                              f"(0 means 'from the data' for own images only)")
        # Checks across sections.
        if self.mean_path_episode and self.episodes_per_image < 2:
            raise ConfigError("mean_path_episode needs episodes_per_image of 2 or more, "
                              f"got {self.episodes_per_image}")
        if self.dataset in MNIST_DATASETS and self.channels != 1:
            raise ConfigError(f"the {self.dataset} dataset has grey images, got channels={self.channels}")
        if self.dataset == "mnist" and self.image_size != 28:
            raise ConfigError(f"the mnist dataset has 28x28 images, got image_size={self.image_size}")
        if self.dataset in ("translated", "cluttered") and self.image_size < 28:
            raise ConfigError(
                f"a {self.dataset} canvas must hold a 28x28 digit, got image_size={self.image_size}")
        if (self.dataset == "catch") != (self.task == "play"):
            raise ConfigError(f"task='play' goes with dataset='catch' (and only there), got "
                              f"task={self.task!r} with dataset={self.dataset!r}")
        if self.dataset == "catch":
            self._check_catch()
        if self.distribute != "none" and self.dataset == "catch":
            raise ConfigError("Catch trains on one device for now: set distribute='none' (the "
                              "image tasks take 'mirrored' and 'multiworker')")
        if self.distribute != "none" and self.runs > 1:
            raise ConfigError(f"distribute={self.distribute!r} spreads one run over devices or "
                              f"machines: set runs=1 (got {self.runs}) and start runs one by one")
        if self.train_recolour and self.dataset != "images":
            raise ConfigError(f"train_recolour is for your own images (dataset='images'), got "
                              f"dataset={self.dataset!r}: set train_recolour=false")
        if self.image_size and self.train_shift >= self.image_size // 2:
            raise ConfigError(f"train_shift must be below half the image side ({self.image_size}), "
                              f"got {self.train_shift}: set train_shift={self.image_size // 2 - 1} "
                              f"or less (0 turns it off)")

    def _check_catch(self):
        if self.image_size < 3:
            raise ConfigError(f"the Catch screen (image_size) must be at least 3 pixels, got "
                              f"{self.image_size}")
        if self.num_glimpses != self.image_size - 1:
            raise ConfigError(f"a game of Catch on a {self.image_size}-pixel screen lasts "
                              f"{self.image_size - 1} frames: set num_glimpses="
                              f"{self.image_size - 1}, got {self.num_glimpses}")
        if self.num_classes != 3:
            raise ConfigError(f"Catch has 3 actions (left, stay, right): set num_classes=3, got "
                              f"{self.num_classes}")
        if self.channels != 1:
            raise ConfigError(f"the Catch screen is grey: set channels=1, got {self.channels}")
        if self.paddle_width >= self.image_size:
            raise ConfigError(f"paddle_width ({self.paddle_width}) must be narrower than the "
                              f"screen ({self.image_size})")
        if self.episodes_per_image != 1:
            raise ConfigError("Catch plays one episode per game: set episodes_per_image=1, got "
                              f"{self.episodes_per_image}")

    def section(self, section):
        """This config's values of one section, e.g. `config.section(ModelConfig)`."""
        return section(**{name: getattr(self, name) for name in section.field_names()})

    @property
    def model_config(self):
        """The `ModelConfig` that rebuilds this config's model."""
        return self.section(ModelConfig)

    # ------------------------------------------------------------------------------------------
    @classmethod
    def from_module(cls, module):
        """Reads every UPPER_CASE name of a run module that matches a field."""
        values = {}
        for name in dir(module):
            if name.isupper() and not name.startswith("_"):
                key = name.lower()
                if key not in cls.field_names():
                    raise ConfigError(
                        f"{module.__name__}.{name} is not a config field "
                        f"(known: {', '.join(cls.field_names())})")
                values[key] = getattr(module, name)
        return cls.from_dict(values)

    def with_overrides(self, assignments):
        """Applies `key=value` strings; each value is parsed as the field's type."""
        values = self.to_dict()
        fields = {field.name: field for field in dataclasses.fields(self)}
        for assignment in assignments:
            if "=" not in assignment:
                raise ConfigError(f"--set expects KEY=VALUE, got {assignment!r}")
            key, text = (part.strip() for part in assignment.split("=", 1))
            key = key.lower()
            if key not in fields:
                raise ConfigError(
                    f"unknown config key {key!r} in --set (known: {', '.join(fields)})")
            values[key] = _parse_value(key, text, _field_type(fields[key]))
        return Config(**values).validate()

    def differences(self, other, fields=None):
        """`(field, self_value, other_value)` for every field (of `fields`, default all) whose
        values differ."""
        return [(name, getattr(self, name), getattr(other, name))
                for name in (fields or self.field_names())
                if getattr(self, name) != getattr(other, name)]


def as_model_config(value):
    """The `ModelConfig` of a `Config`, a `ModelConfig` or a dict of model fields."""
    if isinstance(value, Config):
        return value.model_config
    if isinstance(value, ModelConfig):
        return value
    return ModelConfig.from_dict(value)


# Fields that change only what a finished run reports, how fast it trains, or how many runs the
# experiment has, never what a run learns: a run may resume with other values of these (so
# `--runs 3 --resume` grows a one-run experiment by two runs).
NON_TRAINING_FIELDS = ("test_samples", "steps_per_execution", "runs", "worker_timeout",
                       "cpu_replicas")
# Data fields that decide which test images a model is scored on (evaluate.py checks them).
TEST_SET_FIELDS = ("dataset", "num_clutter", "clutter_size")


def _field_type(field):
    return {"int": int, "float": float, "str": str, "bool": bool}[
        field.type if isinstance(field.type, str) else field.type.__name__]


def _choice(name, value, choices):
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(map(str, choices))}, got {value!r}")


def _at_least(section, minimum, *names):
    for name in names:
        if getattr(section, name) < minimum:
            word = "0 or more" if minimum == 0 else f"at least {minimum}"
            raise ConfigError(f"{name} must be {word}, got {getattr(section, name)}")


def _positive(section, *names):
    for name in names:
        if not getattr(section, name) > 0:
            raise ConfigError(f"{name} must be positive, got {getattr(section, name)}")


def _not_negative(section, *names):
    for name in names:
        if not getattr(section, name) >= 0:
            raise ConfigError(f"{name} must be 0 or more, got {getattr(section, name)}")


def _parse_value(key, text, expected):
    try:
        if expected is bool:
            lowered = text.lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if expected is int:
            return int(text)
        if expected is float:
            return float(text)
        return text
    except ValueError:
        raise ConfigError(f"{key} expects a {expected.__name__}, got {text!r}") from None


def load_module(name):
    """Imports a run module by its bare name (`run_mnist`), and nothing else."""
    if not _MODULE_NAME.match(name or ""):
        raise ConfigError(
            f"config {name!r} is not a run module name: give one like 'run_mnist' "
            "(a bare name, not a path)")
    if not (PROJECT_ROOT / f"{name}.py").is_file():
        known = sorted(path.stem for path in PROJECT_ROOT.glob("run_*.py"))
        raise ConfigError(f"no config module {name!r} (known: {', '.join(known)})")
    # Run modules are scripts beside the package, not part of it: make them importable by name.
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    module = importlib.import_module(name)
    if pathlib.Path(module.__file__).resolve().parent != PROJECT_ROOT:
        raise ConfigError(f"config module {name!r} does not belong to this project")
    return module


def config_from_module_name(name):
    return Config.from_module(load_module(name))


RUN_MODULE_ORDER = ("run_mnist", "run_translated_mnist", "run_cluttered_mnist",
                    "run_cluttered_mnist_100", "run_catch")


def run_module_names():
    """The project's run modules, the paper's tasks first."""
    names = [path.stem for path in PROJECT_ROOT.glob("run_*.py")]
    return sorted(names, key=lambda name: (RUN_MODULE_ORDER.index(name)
                                           if name in RUN_MODULE_ORDER else len(RUN_MODULE_ORDER),
                                           name))


def reference_table():
    """The README's config reference as a Markdown table: each field's section, meaning (from its
    comment in the section's class) and default, and the value of every run script that sets it
    otherwise (blank where it keeps the default)."""
    modules = run_module_names()
    configs = [config_from_module_name(name) for name in modules]
    default = Config()
    rows = ["| key (`--set`) | meaning | default | " + " | ".join(f"`{name}`" for name in modules)
            + " |", "| --- | --- | --- | " + " | ".join("---" for _ in modules) + " |"]
    pattern = re.compile(r"^\s+(\w+): (\w+) = (.+?)  # (.+)$")
    for section in SECTIONS:
        title = section.__name__[:-len("Config")].lower()
        rows.append(f"| **{title}** | {inspect.getdoc(section)} | | " + " | ".join(
            "" for _ in modules) + " |")
        for line in inspect.getsource(section).splitlines():
            match = pattern.match(line)
            if match:
                name, _, _, comment = match.groups()
                values = " | ".join(
                    f"{getattr(config, name)!r}" if getattr(config, name) != getattr(default, name)
                    else "" for config in configs)
                rows.append(f"| `{name}` | {comment} | {getattr(default, name)!r} | {values} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(reference_table())
