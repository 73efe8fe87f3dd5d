"""Training writes its files, saved weights round-trip, runs resume, and the model learns."""

import dataclasses
import json
import os
import shutil
import time

import numpy as np
import pytest

from ram import config as config_module
from ram import data as data_module
from ram import experiment
from ram import losses as losses_module
from ram import model as model_module
from ram import rollout
from ram import runs
from ram import step
from ram import storage
from ram import training


from conftest import tiny_config


def test_tiny_run_writes_weights_config_and_results(tiny_run):
    config, output, results = tiny_run
    for name in ("network.h5", "model.keras", "network.json", "results.json", "checkpoint.h5"):
        assert (output / name).is_file()
    assert not list(output.glob(".*.tmp"))  # No temporary file is left behind.
    saved = json.loads((output / "results.json").read_text())
    assert saved == json.loads(json.dumps(results))
    assert saved["complete"] and len(saved["epochs"]) == 2
    assert saved["train_images"] == 256 and saved["test_images"] == 10000
    assert 0 <= saved["test_accuracy"] <= 1 and saved["best_epoch"] in (1, 2)
    for key in ("train_loss", "train_reward", "train_accuracy", "validation_accuracy", "seconds"):
        assert key in saved["epochs"][0]
    assert set(saved["versions"]) == {"python", "numpy", "tensorflow", "keras"}
    # Minutes and speeds depend on the processor, so every run names it.
    assert saved["machine"]["cpu_model"] == runs.cpu_model() != ""
    assert saved["machine"]["cpu_id"] == runs.cpu_id() != ""
    assert config_module.Config.from_dict(json.loads((output / "network.json").read_text())) == config


def test_saved_weights_round_trip_to_identical_predictions(tiny_run):
    config, output, _ = tiny_run
    images = data_module.Dataset(config).test_images[:64].astype(np.float32) / 255
    first = rollout.load_model(config, output / "network.h5")
    second = rollout.load_model(config, output / "network.h5")
    np.testing.assert_array_equal(first.rollout(images)["logits"].numpy(), second.rollout(images)["logits"].numpy())
    np.testing.assert_array_equal(first.rollout(images)["locations"].numpy(),
                                  second.rollout(images)["locations"].numpy())
    # The weights are the trained ones, not a fresh initialisation.
    fresh = model_module.RecurrentAttentionModel(config, seed=0)
    assert not np.allclose(fresh.rollout(images)["logits"].numpy(), first.rollout(images)["logits"].numpy())


def test_test_accuracies_match_direct_predictions(tiny_run):
    config, output, _ = tiny_run
    dataset = data_module.Dataset(config)
    images, labels = dataset.test_images[:700], dataset.test_labels[:700]
    model = rollout.load_model(config, output / "network.h5")
    logits = model.rollout(images.astype(np.float32) / 255)["logits"].numpy()
    expected = np.mean(logits.argmax(-1) == labels)
    # 700 images in batches of 300: the last batch is short.
    assert rollout.Rollout(model, 300).accuracies(images, labels) == (pytest.approx(expected), None)
    # With a vanishing location std every sampled episode looks where the mean does.
    still = dataclasses.replace(config, location_std=1e-7).validate()
    model = rollout.load_model(still, output / "network.h5")
    deterministic, sampled = rollout.Rollout(model, 300).accuracies(images, labels, samples=3)
    assert deterministic == pytest.approx(expected) and sampled == pytest.approx(expected)


def test_weights_of_another_architecture_are_refused(tiny_run):
    _, output, _ = tiny_run
    with pytest.raises(storage.StorageError, match="another architecture"):
        rollout.load_model(tiny_config(core_size=48), output / "network.h5")


@pytest.mark.parametrize("content", [b"", b"not an hdf5 file at all", None])
def test_corrupt_weights_are_refused(tmp_path, tiny_run, content):
    config, output, _ = tiny_run
    path = tmp_path / "network.h5"
    if content is None:  # Truncated.
        content = (output / "network.h5").read_bytes()[:500]
    path.write_bytes(content)
    with pytest.raises(storage.StorageError):
        rollout.load_model(config, path)


def test_a_folder_holding_a_run_is_not_overwritten(tiny_run):
    config, output, _ = tiny_run
    before = (output / "network.h5").read_bytes()
    with pytest.raises(storage.StorageError, match="--resume"):
        training.train(config, output, seed=5, limit=256, verbose=0)
    assert (output / "network.h5").read_bytes() == before


def test_resume_continues_to_the_same_figures(tmp_path):
    config = tiny_config(epochs=3, test_samples=2)
    straight = training.train(config, tmp_path / "straight", seed=2, limit=128, verbose=0)
    # Stop after epoch 2 (a config with 2 epochs writes the same first two epochs only if the
    # schedule matches, so interrupt by training a 3-epoch config and cutting its checkpoint).
    # It starts without the sampled test figure: a value that changes only the report may change
    # on resume.
    interrupted = tmp_path / "interrupted"
    training.train(dataclasses.replace(config, test_samples=0), interrupted, seed=2, limit=128,
                   verbose=0, stop_after=2)
    partial = json.loads((interrupted / "results.json").read_text())
    assert len(partial["epochs"]) == 2 and not partial["complete"]
    assert partial["test_accuracy_sampled"] is None
    resumed = training.train(config, interrupted, seed=2, limit=128, verbose=0, resume=True)
    for key in ("train_loss", "train_reward", "validation_accuracy"):
        assert [e[key] for e in resumed["epochs"]] == [e[key] for e in straight["epochs"]]
    assert resumed["test_accuracy"] == straight["test_accuracy"]
    # The sampled episodes' noise continues the run's own, so it resumes too.
    assert 0 <= straight["test_accuracy_sampled"] <= 1
    assert resumed["test_accuracy_sampled"] == straight["test_accuracy_sampled"]
    assert resumed["config"]["test_samples"] == 2


def test_the_model_learns_on_a_small_subset():
    config = tiny_config(num_glimpses=4, glimpse_hidden=64, location_hidden=32, glimpse_size=128,
                         core_size=128, epochs=8, batch_size=64, learning_rate=2e-3)
    dataset = data_module.Dataset(config, limit=3000)
    start = time.perf_counter()
    trainer = step.Trainer(config, seed=0, steps_per_epoch=dataset.steps_per_epoch(64))
    before = trainer.accuracy(dataset.validation_images, dataset.validation_labels)
    for epoch in range(1, config.epochs + 1):
        for images, labels in dataset.train_batches(epoch, 0, config.batch_size):
            trainer.train_step(images, labels)
    after = trainer.accuracy(dataset.validation_images, dataset.validation_labels)
    assert time.perf_counter() - start < 60
    assert before < 0.2  # Chance is 10%.
    assert after > 0.6, f"validation accuracy {after:.3f} after training on 3,000 images"


def test_mixed_bfloat16_computes_the_layers_in_bfloat16_for_that_model_alone():
    from ram.backend import keras
    trainer = step.Trainer(tiny_config(precision="mixed_bfloat16"), seed=0, steps_per_epoch=1)
    assert trainer.model.compute_dtype == "bfloat16"
    assert {variable.dtype for variable in trainer.model.weights} == {"float32"}
    # The location policy, logits and baseline stay float32 (REINFORCE's log-probabilities).
    images = np.zeros((4, 28, 28, 1), np.uint8)
    outputs = trainer.model.rollout(images, training=True)
    assert {str(outputs[key].dtype) for key in ("logits", "baselines", "log_probs")} == {
        "<dtype: 'float32'>"}
    # A model made afterwards in the same process (predict, evaluate) is float32 again.
    assert keras.config.dtype_policy().name == "float32"
    assert step.Trainer(tiny_config(), seed=0, steps_per_epoch=1).model.compute_dtype == "float32"


def test_the_location_std_anneals_epoch_by_epoch_into_the_samples_and_their_log_probs():
    trainer = step.Trainer(tiny_config(initial_location_std=0.2, location_std=0.05, epochs=3),
                           seed=0, steps_per_epoch=1)
    images = np.random.default_rng(0).integers(0, 256, (4, 28, 28, 1)).astype(np.uint8)
    noise = np.full((4, trainer.config.num_glimpses, 2), 0.5, np.float32)
    for epoch, std in ((1, 0.2), (2, 0.125), (3, 0.05)):
        trainer.start_epoch(epoch)
        assert float(trainer.location_std.numpy()) == pytest.approx(std)
        out = trainer.model.rollout(images, training=True, noise=noise, std=trainer.location_std)
        np.testing.assert_allclose(np.clip(out["means"] + std * 0.5, -1, 1), out["locations"],
                                   atol=1e-6)
        # log N(mean + std/2; mean, std^2 I) over x and y: 2 * (-1/8 - log std - log(2 pi) / 2).
        expected = 2 * (-0.125 - np.log(std) - 0.5 * np.log(2 * np.pi))
        unclipped = np.all(np.abs(out["means"] + std * 0.5) < 1, axis=-1)
        np.testing.assert_allclose(np.asarray(out["log_probs"])[unclipped], expected, rtol=1e-5)
    # Without initial_location_std the step keeps the config's constant.
    assert step.Trainer(tiny_config(), seed=0, steps_per_epoch=1).location_std is None


def test_the_core_gradient_share_warms_up_epoch_by_epoch():
    config = tiny_config(policy_trains_core=True, policy_core_gradient=0.5,
                         policy_core_gradient_warmup=2, epochs=4)
    trainer = step.Trainer(config, seed=0, steps_per_epoch=1)
    for epoch, share in ((1, 0.0), (2, 0.25), (3, 0.5), (4, 0.5)):
        trainer.start_epoch(epoch)
        assert float(trainer.core_gradient.numpy()) == pytest.approx(share)
    # Without a warm-up the step keeps the config's constant.
    assert step.Trainer(tiny_config(), seed=0, steps_per_epoch=1).core_gradient is None


def test_hybrid_loss_against_hand_computed_values():
    import tensorflow as tf
    config = tiny_config(reinforce_weight=0.5, baseline_weight=2.0)
    outputs = {"logits": tf.constant([[2.0, 0.0], [0.0, 1.0]]),
               "log_probs": tf.constant([[-1.0, -2.0], [-0.5, -0.5]]),
               "baselines": tf.constant([[0.5, 0.25], [0.0, 1.0]])}
    labels = tf.constant([0, 0])  # The first is right (reward 1), the second wrong (reward 0).
    losses = {key: float(value) for key, value in losses_module.hybrid_loss(outputs, labels, config).items()}
    cross_entropy = (np.log(1 + np.exp(-2.0)) + np.log(1 + np.exp(1.0))) / 2
    reinforce = -((-1.0 * 0.5 + -2.0 * 0.75) + (-0.5 * 0.0 + -0.5 * -1.0)) / 2
    baseline = (0.25 + 0.5625 + 0.0 + 1.0) / 4
    assert losses["cross_entropy"] == pytest.approx(cross_entropy, 1e-6)
    assert losses["reinforce"] == pytest.approx(reinforce, 1e-6)
    assert losses["baseline_loss"] == pytest.approx(baseline, 1e-6)
    assert losses["reward"] == pytest.approx(0.5)
    assert losses["loss"] == pytest.approx(cross_entropy + 0.5 * reinforce + 2.0 * baseline, 1e-6)


def test_leave_one_out_advantage_and_probability_reward_against_hand_computed_values():
    import tensorflow as tf
    # Two images, two episodes each (image-major): logits give p(class 0) = e^a / (e^a + 1).
    outputs = {"logits": tf.constant([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0], [3.0, 0.0]]),
               "log_probs": tf.constant([[-1.0, -2.0], [-0.5, -0.5], [-1.5, 0.5], [0.25, -1.0]]),
               "baselines": tf.constant([[0.5, 0.25], [0.0, 1.0], [0.5, 0.5], [1.0, 0.0]])}
    labels = tf.constant([0, 0, 0, 0])
    log_probs = outputs["log_probs"].numpy().sum(axis=1)

    def losses(**overrides):
        config = tiny_config(episodes_per_image=2, reinforce_weight=1.0, **overrides)
        return {key: float(value) for key, value in
                losses_module.hybrid_loss(outputs, labels, config).items()}

    # Rewards 1, 0 | 1, 1: each episode's advantage is its reward minus the other episode's.
    correct = losses(advantage_baseline="episodes")
    advantages = np.array([1.0, -1.0, 0.0, 0.0])
    assert correct["reinforce"] == pytest.approx(-(log_probs * advantages).mean(), 1e-6)
    assert correct["reward"] == pytest.approx(0.75)
    # The probability reward: p(y) for each episode, compared within its image.
    p = 1 / (1 + np.exp(-np.array([2.0, -1.0, 1.0, 3.0])))
    both = losses(advantage_baseline="episodes", reward="probability")
    advantages = np.array([p[0] - p[1], p[1] - p[0], p[2] - p[3], p[3] - p[2]])
    assert both["reinforce"] == pytest.approx(-(log_probs * advantages).mean(), 1e-5)
    baselines = outputs["baselines"].numpy()
    assert both["baseline_loss"] == pytest.approx(((baselines - p[:, None]) ** 2).mean(), 1e-5)
    assert both["reward"] == pytest.approx(0.75)  # The reported reward is still accuracy.
    # The probability reward against the learned baseline.
    learned = losses(reward="probability")
    assert learned["reinforce"] == pytest.approx(
        -(outputs["log_probs"].numpy() * (p[:, None] - baselines)).sum(axis=1).mean(), 1e-5)


def test_the_episodes_baseline_needs_two_episodes_per_image():
    with pytest.raises(config_module.ConfigError, match="episodes_per_image"):
        tiny_config(advantage_baseline="episodes")
    with pytest.raises(config_module.ConfigError, match="reward must be one of"):
        tiny_config(reward="accuracy")


def test_several_episodes_per_image_roll_each_image_out_with_its_own_noise():
    config = tiny_config(episodes_per_image=3)
    dataset = data_module.Dataset(config, limit=64)
    images, labels = next(iter(dataset.train_batches(1, 0, 8)))
    trainer = step.Trainer(config, seed=1, steps_per_epoch=1)
    weights = {name: variable.numpy() for name, variable in trainer.model.weight_dict().items()}
    noise = trainer.model.seed_generator.state.numpy()
    trainer.train_step(images, labels)
    metrics = trainer.metric_values()
    # The same step by hand, from the same weights and noise, on each image repeated 3 times.
    storage.assign_weights(trainer.model, weights, "weights before the step")
    trainer.model.seed_generator.state.assign(noise)
    outputs = trainer.model.rollout(rollout.as_model_input(np.repeat(images, 3, axis=0)), training=True)
    expected = losses_module.hybrid_loss(outputs, np.repeat(labels, 3), config)
    for name in ("loss", "cross_entropy", "reinforce", "baseline_loss", "reward"):
        assert metrics[name] == pytest.approx(float(expected[name]), rel=1e-5, abs=1e-6), name
    # The three episodes of an image start from the same mean but look in different places.
    first = outputs["locations"].numpy()[:, 0].reshape(8, 3, 2)
    assert not np.allclose(first[:, 0], first[:, 1]) and not np.allclose(first[:, 1], first[:, 2])
    assert np.abs(first - first.mean(axis=1, keepdims=True)).max() < 6 * config.location_std


@pytest.mark.parametrize("jit_compile", [False, True])
def test_several_steps_per_call_train_exactly_as_one_step_per_call(jit_compile):
    outcomes = []
    for steps in (1, 3):
        config = tiny_config(steps_per_execution=steps, jit_compile=jit_compile)
        dataset = data_module.Dataset(config, limit=288)
        trainer = step.Trainer(config, seed=2, steps_per_epoch=dataset.steps_per_epoch(32))
        done = list(trainer.fit_batches(dataset.train_batches(1, 2, config.batch_size)))
        weights = {name: variable.numpy() for name, variable in trainer.model.weight_dict().items()}
        outcomes.append((done, trainer.metric_values(), weights,
                         int(trainer.optimizer.iterations.numpy())))
    # The evaluation step (compiled with XLA in the second case) counts what the model predicts.
    images, labels = dataset.validation_images[:300], dataset.validation_labels[:300]
    predictions = np.argmax(trainer.model.rollout(rollout.as_model_input(images))["logits"], -1)
    assert trainer.accuracy(images, labels, batch_size=128) == pytest.approx(
        np.mean(predictions == labels))
    (done, metrics, weights, iterations), (grouped_done, grouped_metrics, grouped_weights,
                                           grouped_iterations) = outcomes
    # 288 images: 9 batches of 32, three calls of three steps against nine calls of one.
    assert done == list(range(1, 10)) and grouped_done == [3, 6, 9]
    assert iterations == grouped_iterations == 9
    # The same epoch means of every loss term, and the same weights.
    assert metrics == pytest.approx(grouped_metrics, rel=1e-6)
    assert all(np.array_equal(weights[name], grouped_weights[name]) for name in weights)


def test_a_checkpoint_from_before_a_new_config_field_resumes(tmp_path):
    config = tiny_config(epochs=2)
    training.train(config, tmp_path, seed=3, limit=64, verbose=0, stop_after=1)
    # Rewrite the checkpoint as a version without `episodes_per_image` wrote it.
    arrays, attributes = storage.load_arrays(tmp_path / "checkpoint.h5", "checkpoint")
    state = json.loads(attributes["state"])
    del state["config"]["episodes_per_image"]
    storage.save_arrays(tmp_path / "checkpoint.h5", arrays, {"state": json.dumps(state)})
    resumed = training.train(config, tmp_path, seed=3, limit=64, verbose=0, resume=True)
    assert resumed["complete"] and len(resumed["epochs"]) == 2
    # A config that really differs is still refused.
    (tmp_path / "other").mkdir()
    training.train(config, tmp_path / "other", seed=3, limit=64, verbose=0, stop_after=1)
    with pytest.raises(storage.StorageError,
                       match=r"written with episodes_per_image=1, not episodes_per_image=2; resume"):
        training.train(tiny_config(epochs=2, episodes_per_image=2), tmp_path / "other", seed=3,
                       limit=64, verbose=0, resume=True)
    with pytest.raises(storage.StorageError, match=r"written with seed=3, not seed=4"):
        training.train(config, tmp_path / "other", seed=4, limit=64, verbose=0, resume=True)


@pytest.mark.parametrize("family, model, flags, expected", [
    (25, 1, "fma avx2 bmi2", "family 25 model 1, AVX2"),                        # AMD Zen 3
    (25, 17, "avx2 avx512f avx512_bf16 avx512vl", "family 25 model 17, AVX-512 BF16"),  # Zen 4
    (6, 143, "avx2 avx512f avx512_bf16 amx_tile", "family 6 model 143, AVX-512 BF16 AMX"),
    (6, 15, "sse2", "family 6 model 15"),
])
def test_cpu_id_tells_processors_of_one_name_apart(tmp_path, family, model, flags, expected):
    cpuinfo = tmp_path / "cpuinfo"
    block = (f"processor\t: {{}}\nvendor_id\t: X\ncpu family\t: {family}\nmodel\t\t: {model}\n"
             f"model name\t: AMD EPYC\nflags\t\t: fpu {flags}\n\n")
    cpuinfo.write_text(block.format(0) + block.format(1))
    assert runs.cpu_id(cpuinfo) == expected
    assert runs.cpu_id(tmp_path / "missing") == "unknown"


def test_a_resumed_experiment_shares_the_cores_among_its_unfinished_runs(tmp_path):
    for index, content in enumerate(['{"complete": true}', '{"complete": false}', "{broken", None]):
        (tmp_path / f"run_{index}").mkdir()
        if content is not None:
            (tmp_path / f"run_{index}" / "results.json").write_text(content)
    # run_0 is done; run_1 is half-way, run_2's results are corrupt, run_3 has none, run_4 no folder.
    assert runs.unfinished_runs(tmp_path, 5) == 4
    assert runs.unfinished_runs(tmp_path, 1) == 1  # None left still counts one process.


def test_the_cores_are_shared_among_the_runs_to_train(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    monkeypatch.delenv("RAM_THREADS", raising=False)
    assert experiment.share_cores(3) == (3, 1)
    assert experiment.share_cores(1) == (1, 4)  # One run left (say, on --resume) gets every core.
    assert experiment.share_cores(8) == (4, 1)
    assert experiment.share_cores(3, processes=2) == (2, 2)
    monkeypatch.setenv("RAM_THREADS", "1")
    assert experiment.share_cores(1) == (1, 1)


def test_a_finished_run_without_its_checkpoint_is_not_trained_again(tmp_path):
    config = tiny_config(epochs=1, runs=1)
    first = training.train(config, tmp_path, seed=4, limit=64, verbose=0)
    (tmp_path / "checkpoint.h5").unlink()  # Deleted to save space, or copied without it.
    before = {name: (tmp_path / name).read_bytes() for name in ("network.h5", "results.json")}
    # `runs` is the experiment's size, not a training value: a one-run experiment may grow.
    # Nor is the experiment's first seed: run 2 of `--seed 2` is the run made alone with `--seed 4`.
    again = training.train(tiny_config(epochs=1, runs=3, seed=2), tmp_path, seed=4, limit=64,
                           verbose=0, resume=True)
    assert again["complete"] and again["test_accuracy"] == first["test_accuracy"]
    # Copied into another experiment's folder, it is named by that folder.
    moved = tmp_path.parent / f"{tmp_path.name}_moved" / "run_2"
    shutil.copytree(tmp_path, moved)
    assert training.train(tiny_config(epochs=1, runs=3), moved, seed=4, limit=64, verbose=0,
                          resume=True)["run"] == "run_2"
    assert {name: (tmp_path / name).read_bytes() for name in before} == before
    with pytest.raises(storage.StorageError, match=r"results.json was written with epochs=1, not"):
        training.train(tiny_config(epochs=2), tmp_path, seed=4, limit=64, verbose=0, resume=True)
    with pytest.raises(storage.StorageError, match=r"results.json was written with seed=4, not seed=5"):
        training.train(tiny_config(epochs=1), tmp_path, seed=5, limit=64, verbose=0, resume=True)
    assert {name: (tmp_path / name).read_bytes() for name in before} == before
