"""Config values, overrides and module loading."""

import pathlib

import pytest

from ram import config as config_module
from ram.config import Config, ConfigError

from conftest import load_tool


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
    ("train_shift=14", "below half the image side (28), got 14: set train_shift=13 or less"),
    ("train_recolour=true", "train_recolour is for your own images (dataset='images'), got "
                            "dataset='mnist': set train_recolour=false"),
])
def test_bad_overrides_name_the_problem(assignment, message):
    with pytest.raises(ConfigError) as error:
        Config().with_overrides([assignment])
    assert message in str(error.value)


def test_differences_lists_each_differing_field():
    assert Config().differences(Config(epochs=5)) == [("epochs", 200, 5)]


@pytest.mark.parametrize("name", ["../run_mnist", "run_mnist.py", "os", "ram.config", "run_nothing", ""])
def test_only_project_run_modules_load_by_name(name):
    with pytest.raises(ConfigError):
        config_module.load_module(name)


def test_run_mnist_module_builds_its_config():
    config = config_module.config_from_module_name("run_mnist")
    assert (config.dataset, config.patch_size, config.num_scales) == ("mnist", 8, 1)
    assert (config.glimpse_hidden, config.location_hidden, config.glimpse_size,
            config.core_size) == (128, 128, 256, 256)


def test_every_field_lives_in_exactly_one_section_with_its_one_default():
    names = [name for section in config_module.SECTIONS for name in section.field_names()]
    assert sorted(names) == sorted(Config.field_names()) and len(set(names)) == len(names)
    for section in config_module.SECTIONS:
        for name in section.field_names():
            assert getattr(Config(), name) == getattr(section(), name)


def test_the_model_receives_only_its_section():
    config = Config(core_size=64, epochs=3, dataset="translated", image_size=60)
    model_config = config.model_config
    assert isinstance(model_config, config_module.ModelConfig)
    assert not isinstance(model_config, config_module.OptimizationConfig)
    assert (model_config.core_size, model_config.image_size) == (64, 60)
    assert not hasattr(model_config, "epochs") and not hasattr(model_config, "dataset")
    assert config_module.as_model_config(model_config.to_dict()) == model_config
    with pytest.raises(ConfigError, match="unknown config key"):
        config_module.as_model_config({"epochs": 3})


@pytest.mark.parametrize("name", config_module.run_module_names())
def test_run_scripts_state_only_what_their_task_changes(name):
    module = config_module.load_module(name)
    default = Config()
    for attribute in dir(module):
        if attribute.isupper() and not attribute.startswith("_"):
            assert getattr(module, attribute) != getattr(default, attribute.lower()), (
                f"{name}.{attribute} repeats the default; leave it to ram/config.py")


def test_readme_tables_are_current():
    """The README's results table and docs/config.md's reference are what
    tools/update_readme.py makes."""
    root = pathlib.Path(__file__).resolve().parent.parent
    update_readme = load_tool("update_readme")
    for path in (root / "README.md", root / "docs" / "config.md"):
        text = path.read_text()
        assert update_readme.updated(text) == text, (
            f"{path.name}'s generated tables are stale: run `python tools/update_readme.py`")
