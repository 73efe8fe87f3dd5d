"""Every hyperparameter of a run, with its default, its type and its valid range.

A run script (`run_mnist.py`, ...) is the configuration: it assigns module-level UPPER_CASE names,
one per field below (`PATCH_SIZE = 8`). `Config.from_module` reads them, `Config.with_overrides`
applies `--set key=value` strings, and `Config.validate` rejects anything out of range with a
`ValueError` whose message names the field.
"""

import dataclasses
import importlib
import json
import re

# Run modules live at the top level of the project; only these names can be loaded by name.
_MODULE_NAME = re.compile(r"^run_[a-z0-9_]+$")

DATASETS = ("mnist", "translated", "cluttered")
CORE_TYPES = ("rnn", "lstm")
OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("constant", "linear", "cosine")
REWARDS = ("correct", "probability")
ADVANTAGE_BASELINES = ("learned", "episodes")


class ConfigError(ValueError):
    """A configuration value, override or module name that cannot be used."""


@dataclasses.dataclass
class Config:
    # Data.
    dataset: str = "mnist"  # One of "mnist", "translated", "cluttered".
    image_size: int = 28  # Side of the square input image (the canvas for translated/cluttered).
    num_clutter: int = 0  # Pieces of clutter pasted on each cluttered image.
    clutter_size: int = 8  # Side of each square piece of clutter, in pixels.
    validation_size: int = 6000  # Training images held out for validation and model selection.
    train_shift: int = 0  # Shift each training image by up to this many pixels (zero fill); 0 = off.
    # Retina (see ram/glimpse.py for the coordinate convention).
    patch_size: int = 8  # Side g of each glimpse patch after downsampling.
    num_scales: int = 1  # Number of patches k per glimpse.
    scale_factor: int = 2  # Each scale covers scale_factor times the side of the one before.
    unit_pixels: float = 13.0  # Pixels from the image centre to a location coordinate of +/-1.
    # Networks.
    glimpse_hidden: int = 128  # Units of h_g = relu(W(rho)).
    location_hidden: int = 128  # Units of h_l = relu(W(l)).
    glimpse_size: int = 256  # Units of the glimpse representation g = relu(W(h_g) + W(h_l)).
    core_size: int = 256  # Units of the core state h_t.
    core_type: str = "rnn"  # "rnn": h_t = relu(W(h_{t-1}) + W(g_t)); "lstm": an LSTM cell.
    location_network_hidden: int = 0  # Hidden units in the location network; 0 = one linear layer.
    num_glimpses: int = 7  # Glimpses T per image; the class is read from the last core state.
    num_classes: int = 10  # Output classes.
    # Policy and loss.
    location_std: float = 0.1  # Standard deviation of the Gaussian location policy in training.
    reinforce_weight: float = 1.0  # Weight lambda of the REINFORCE term in the hybrid loss.
    baseline_weight: float = 1.0  # Weight of the baseline's mean squared error to the reward.
    episodes_per_image: int = 1  # Sampled episodes M per training image; the losses average them all.
    reward: str = "correct"  # REINFORCE reward: "correct" (1 if right, the paper) or "probability" (p(y)).
    advantage_baseline: str = "learned"  # "learned" (b_t) or "episodes" (the image's other episodes).
    policy_trains_core: bool = False  # REINFORCE also trains the core and glimpse networks via h_{t-1}.
    mean_path_episode: bool = False  # With M >= 2, each image's first training episode follows the policy's means.
    # Optimisation.
    optimizer: str = "adam"  # "adam" or "sgd" (with momentum).
    learning_rate: float = 1e-3  # Initial learning rate.
    final_learning_rate: float = 1e-5  # Learning rate reached at the last epoch by the schedule.
    schedule: str = "cosine"  # "constant", "linear" or "cosine" decay over all epochs.
    momentum: float = 0.9  # Momentum for SGD (ignored by Adam).
    clip_norm: float = 5.0  # Global gradient-norm clip; 0 turns it off.
    batch_size: int = 128  # Training batch size.
    eval_batch_size: int = 1000  # Batch size for validation and test.
    epochs: int = 100  # Training epochs.
    patience: int = 0  # Stop after this many epochs without a better validation accuracy; 0 = never.
    test_samples: int = 0  # Also report the test accuracy of the mean of this many sampled episodes; 0 = off.
    # Runtime.
    runs: int = 3  # Independent training runs started by main().
    seed: int = 0  # Seed of the first run; run i uses seed + i.
    jit_compile: bool = False  # Compile the train and eval steps with XLA.
    steps_per_execution: int = 1  # Train steps per call of the compiled step (a loop inside it).

    # ------------------------------------------------------------------------------------------
    def validate(self):
        """Raises `ConfigError` naming the first field that is out of range."""
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            expected = _field_type(field)
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
                setattr(self, field.name, value)
            if expected is int and isinstance(value, bool) or not isinstance(value, expected):
                raise ConfigError(
                    f"{field.name} must be {expected.__name__}, got {value!r}")
        _choice("dataset", self.dataset, DATASETS)
        _choice("core_type", self.core_type, CORE_TYPES)
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        _choice("schedule", self.schedule, SCHEDULES)
        _choice("reward", self.reward, REWARDS)
        _choice("advantage_baseline", self.advantage_baseline, ADVANTAGE_BASELINES)
        for name in ("image_size", "patch_size", "num_scales", "scale_factor", "glimpse_hidden",
                     "location_hidden", "glimpse_size", "core_size", "num_glimpses", "batch_size",
                     "eval_batch_size", "epochs", "runs", "clutter_size", "validation_size",
                     "episodes_per_image", "steps_per_execution"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("num_clutter", "patience", "location_network_hidden", "seed", "train_shift",
                     "test_samples"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be 0 or more, got {getattr(self, name)}")
        if self.num_classes < 2:
            raise ConfigError(f"num_classes must be at least 2, got {self.num_classes}")
        for name in ("unit_pixels", "location_std", "learning_rate"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        for name in ("reinforce_weight", "baseline_weight", "final_learning_rate", "clip_norm",
                     "momentum"):
            if not getattr(self, name) >= 0:
                raise ConfigError(f"{name} must be 0 or more, got {getattr(self, name)}")
        if self.advantage_baseline == "episodes" and self.episodes_per_image < 2:
            raise ConfigError("advantage_baseline='episodes' needs episodes_per_image of 2 or more, "
                              f"got {self.episodes_per_image}")
        if self.mean_path_episode and self.episodes_per_image < 2:
            raise ConfigError("mean_path_episode needs episodes_per_image of 2 or more, "
                              f"got {self.episodes_per_image}")
        if self.momentum >= 1:
            raise ConfigError(f"momentum must be below 1, got {self.momentum}")
        if self.patch_size > self.image_size:
            raise ConfigError(
                f"patch_size ({self.patch_size}) is larger than the image ({self.image_size})")
        if self.dataset == "mnist" and self.image_size != 28:
            raise ConfigError(f"the mnist dataset has 28x28 images, got image_size={self.image_size}")
        if self.dataset != "mnist" and self.image_size < 28:
            raise ConfigError(
                f"a {self.dataset} canvas must hold a 28x28 digit, got image_size={self.image_size}")
        if self.train_shift >= self.image_size // 2:
            raise ConfigError(f"train_shift must be below half the image side, got {self.train_shift}")
        if self.dataset == "cluttered" and self.clutter_size > 28:
            raise ConfigError(f"clutter_size must be at most 28, got {self.clutter_size}")
        if self.validation_size >= 60000:
            raise ConfigError(
                f"validation_size must leave training images, got {self.validation_size}")
        return self

    # ------------------------------------------------------------------------------------------
    @classmethod
    def field_names(cls):
        return [field.name for field in dataclasses.fields(cls)]

    @classmethod
    def from_dict(cls, values):
        """Builds a validated config from a dict; unknown keys are an error."""
        unknown = sorted(set(values) - set(cls.field_names()))
        if unknown:
            raise ConfigError(f"unknown config key(s): {', '.join(unknown)}")
        return cls(**values).validate()

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

    def to_dict(self):
        return dataclasses.asdict(self)

    def to_json(self):
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

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

    def differences(self, other):
        """`(field, self_value, other_value)` for every field whose values differ."""
        return [(name, getattr(self, name), getattr(other, name)) for name in self.field_names()
                if getattr(self, name) != getattr(other, name)]


# Fields that change only what a finished run reports, how fast it trains, or how many runs the
# experiment has, never what a run learns: a run may resume with other values of these (so
# `--runs 3 --resume` grows a one-run experiment by two runs).
NON_TRAINING_FIELDS = ("test_samples", "steps_per_execution", "runs")


def _field_type(field):
    return {"int": int, "float": float, "str": str, "bool": bool}[
        field.type if isinstance(field.type, str) else field.type.__name__]


def _choice(name, value, choices):
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")


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
    import pathlib
    import sys
    root = pathlib.Path(__file__).resolve().parent.parent
    if not (root / f"{name}.py").is_file():
        known = sorted(path.stem for path in root.glob("run_*.py"))
        raise ConfigError(f"no config module {name!r} (known: {', '.join(known)})")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    module = importlib.import_module(name)
    if pathlib.Path(module.__file__).resolve().parent != root:
        raise ConfigError(f"config module {name!r} does not belong to this project")
    return module


def config_from_module_name(name):
    return Config.from_module(load_module(name))


def reference_table():
    """The README's config reference as a Markdown table: each field's meaning (from its comment in
    `Config`) and its value in every run script."""
    import inspect
    import pathlib
    root = pathlib.Path(__file__).resolve().parent.parent
    order = ["run_mnist", "run_translated_mnist", "run_cluttered_mnist", "run_cluttered_mnist_100"]
    modules = sorted((path.stem for path in root.glob("run_*.py")),
                     key=lambda name: (order.index(name) if name in order else len(order), name))
    configs = [config_from_module_name(name) for name in modules]
    rows = ["| key (`--set`) | meaning | " + " | ".join(f"`{name}`" for name in modules) + " |",
            "| --- | --- | " + " | ".join("---" for _ in modules) + " |"]
    pattern = re.compile(r"^\s+(\w+): (\w+) = (.+?)  # (.+)$")
    for line in inspect.getsource(Config).splitlines():
        match = pattern.match(line)
        if match:
            name, _, _, comment = match.groups()
            values = " | ".join(f"{getattr(config, name)!r}" for config in configs)
            rows.append(f"| `{name}` | {comment} | {values} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(reference_table())
