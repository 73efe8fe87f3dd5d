"""Config values, overrides and module loading."""

import pathlib

import pytest

from ram import config as config_module
from ram.config import Config, ConfigError


def test_defaults_are_valid_and_round_trip_through_a_dict():
    config = Config().validate()
    assert Config.from_dict(config.to_dict()) == config


def test_overrides_are_parsed_as_the_field_type():
    config = Config().with_overrides(["epochs=3", "location_std=0.2", "core_type=lstm",
                                      "jit_compile=true", "UNIT_PIXELS=10"])
    assert (config.epochs, config.location_std, config.core_type, config.jit_compile,
            config.unit_pixels) == (3, 0.2, "lstm", True, 10.0)


@pytest.mark.parametrize("assignment, message", [
    ("epochz=3", "unknown config key 'epochz'"),
    ("epochs=three", "epochs expects a int"),
    ("epochs=-1", "epochs must be at least 1"),
    ("epochs", "KEY=VALUE"),
    ("patch_size=40", "patch_size (40) is larger than the image (28)"),
    ("location_std=0", "location_std must be positive"),
    ("core_type=gru", "core_type must be one of rnn, lstm"),
    ("jit_compile=maybe", "jit_compile expects a bool"),
    ("momentum=1.5", "momentum must be below 1"),
    ("image_size=60", "the mnist dataset has 28x28 images"),
    ("episodes_per_image=0", "episodes_per_image must be at least 1"),
])
def test_bad_overrides_name_the_problem(assignment, message):
    with pytest.raises(ConfigError) as error:
        Config().with_overrides([assignment])
    assert message in str(error.value)


def test_differences_lists_each_differing_field():
    assert Config().differences(Config(epochs=5)) == [("epochs", 100, 5)]


@pytest.mark.parametrize("name", ["../run_mnist", "run_mnist.py", "os", "ram.config", "run_nothing", ""])
def test_only_project_run_modules_load_by_name(name):
    with pytest.raises(ConfigError):
        config_module.load_module(name)


def test_run_mnist_module_builds_its_config():
    config = config_module.config_from_module_name("run_mnist")
    assert (config.dataset, config.patch_size, config.num_scales) == ("mnist", 8, 1)
    assert (config.glimpse_hidden, config.location_hidden, config.glimpse_size,
            config.core_size) == (128, 128, 256, 256)


def test_readme_config_reference_is_up_to_date():
    readme = pathlib.Path(__file__).resolve().parent.parent / "README.md"
    assert config_module.reference_table() in readme.read_text(), (
        "README.md's config reference is stale: paste the output of `python -m ram.config`")
