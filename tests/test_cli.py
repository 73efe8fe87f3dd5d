"""The scripts as a user runs them: --help, bad input (one clear line, exit status 2), and outputs."""

import json
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
RUN_MODULES = sorted(path.stem for path in ROOT.glob("run_*.py"))


def run(*arguments, cwd=ROOT):
    return subprocess.run([sys.executable, *map(str, arguments)], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


def assert_clean_error(result, *fragments):
    assert result.returncode == 2, result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.parametrize("script", [f"{name}.py" for name in RUN_MODULES]
                         + ["evaluate.py", "plot.py", "predict.py", "export.py",
                            "benchmarks/throughput.py", "benchmarks/retina.py",
                            "benchmarks/image_loading.py", "tools/results_table.py",
                            "tools/make_colour_mnist.py", "tools/update_readme.py",
                            "tools/local_cluster.py", "tools/catch_credit.py",
                            "tools/colour_mnist_errors.py"])
def test_every_script_answers_help(script):
    result = run(script, "--help")
    assert result.returncode == 0 and "usage:" in result.stdout and not result.stderr


@pytest.fixture
def bad_npz(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, x_train=np.zeros((10, 32, 32), np.uint8), y_train=np.zeros(10, np.uint8),
             x_test=np.zeros((5, 28, 28), np.uint8), y_test=np.zeros(5, np.uint8))
    return path


@pytest.mark.parametrize("arguments, fragment", [
    (["--set", "epochz=1"], "unknown config key 'epochz'"),
    (["--set", "epochs=many"], "epochs expects a int"),
    (["--epochs", "-1"], "epochs must be at least 1"),
    (["--set", "patch_size=40"], "larger than the image"),
    (["--set", "location_std=-0.1"], "location_std must be positive"),
    (["--limit", "0"], "--limit must be at least 1"),
    (["--data", "/no/such/mnist.npz"], "does not exist"),
])
def test_run_script_rejects_bad_values(tmp_path, arguments, fragment):
    assert_clean_error(run("run_mnist.py", "--output", tmp_path, *arguments), fragment)


def test_run_script_rejects_bad_data_files(tmp_path, bad_npz):
    assert_clean_error(run("run_mnist.py", "--output", tmp_path / "out", "--data", bad_npz),
                       "x_train has shape")
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"\x00" * 100)
    assert_clean_error(run("run_mnist.py", "--output", tmp_path / "out", "--data", corrupt),
                       "not a readable")


def test_run_script_rejects_an_unwritable_output(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert_clean_error(run("run_mnist.py", "--output", blocker / "inside"), "cannot write")


def test_run_script_refuses_a_folder_a_live_run_holds(tmp_path):
    (tmp_path / "run_0").mkdir()
    (tmp_path / "run_0" / ".lock").write_text(f"{1} {__import__('socket').gethostname()}\n")
    assert_clean_error(run("run_mnist.py", "--output", tmp_path), "in use by a live run")


# The plain task and the largest canvas: run_translated_mnist and run_cluttered_mnist differ from
# run_cluttered_mnist_100 only in values (each task's model is built in test_keras_native), and
# run_catch trains in tests/test_catch.py (its 10,000 fixed test games make a CLI run slow).
@pytest.mark.parametrize("module_name", ["run_mnist", "run_cluttered_mnist_100"])
def test_every_run_script_trains_a_tiny_run(tmp_path, module_name):
    # Without XLA, as `trained` below.
    result = run(f"{module_name}.py", "--runs", "1", "--epochs", "1", "--limit", "64", "--quiet",
                 "--output", tmp_path, "--set", "batch_size=32", "--set", "test_samples=0",
                 "--set", "jit_compile=false")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # A clean console: no TensorFlow log lines.
    for name in ("network.h5", "network.json", "results.json"):
        assert (tmp_path / "run_0" / name).is_file()
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert len(summary["runs"]) == 1 and 0 <= summary["test_accuracy_mean"] <= 1
    assert summary["test_samples"] == 0 and summary["test_accuracy_sampled_mean"] is None
    # A second command on the same folder is refused and leaves the run as it was.
    before = (tmp_path / "run_0" / "results.json").read_bytes()
    assert_clean_error(run(f"{module_name}.py", "--output", tmp_path), "already holds runs")
    assert (tmp_path / "run_0" / "results.json").read_bytes() == before


# The `trained` fixture's training values (without XLA, whose compilation would take most of the
# time: tests/test_training.py compiles the training and evaluation steps with it).
SMALL = ("--set", "batch_size=32", "--set", "jit_compile=false")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    output = tmp_path_factory.mktemp("trained")
    result = run("run_mnist.py", "--runs", "2", "--epochs", "2", "--limit", "256", "--quiet",
                 "--output", output, *SMALL, "--set", "test_samples=3")
    assert result.returncode == 0, result.stderr
    return output


def test_several_runs_write_a_summary_with_mean_and_std(trained):
    summary = json.loads((trained / "summary.json").read_text())
    accuracies = [run["test_accuracy"] for run in summary["runs"]]
    assert len(accuracies) == 2 and summary["processes"] == 2
    assert summary["test_accuracy_mean"] == pytest.approx(np.mean(accuracies))
    assert summary["test_accuracy_std"] == pytest.approx(np.std(accuracies, ddof=1))
    # Each run reports the mean of 3 sampled episodes per test image as well.
    sampled = [run["test_accuracy_sampled"] for run in summary["runs"]]
    assert summary["test_samples"] == 3 and all(0 <= value <= 1 for value in sampled)
    assert summary["test_accuracy_sampled_mean"] == pytest.approx(np.mean(sampled))
    assert summary["test_accuracy_sampled_std"] == pytest.approx(np.std(sampled, ddof=1))
    seeds = {json.loads((trained / f"run_{i}" / "results.json").read_text())["seed"] for i in (0, 1)}
    assert seeds == {0, 1}
    # The weights to ship come from the run best on validation, never chosen on the test set.
    best = max(summary["runs"], key=lambda run: run["validation_accuracy"])
    assert summary["best_run"] == best["run"]
    run_0 = json.loads((trained / "run_0" / "results.json").read_text())
    assert summary["cpu_model"] == run_0["machine"]["cpu_model"]
    assert summary["cpu_id"] == run_0["machine"]["cpu_id"]


@pytest.mark.parametrize("arguments, fragment", [
    (["--epochs", "3"], "run_0/checkpoint.h5 was written with epochs=2, not epochs=3;"),
    (["--seed", "5"], "run_0/checkpoint.h5 was written with seed=0, not seed=5;"),
    (["--set", "learning_rate=0.1"], "learning_rate=0.001, not learning_rate=0.1;"),
])
def test_resume_refuses_other_training_values_before_any_run_starts(trained, arguments, fragment):
    # The same flags as `trained`, but one (the last --epochs given wins).
    before = {path: path.read_bytes() for path in trained.rglob("*") if path.is_file()}
    assert_clean_error(run("run_mnist.py", "--output", trained, "--resume", "--runs", "2",
                           "--epochs", "2", "--limit", "256", *SMALL, *arguments),
                       fragment)
    assert {path: path.read_bytes() for path in trained.rglob("*") if path.is_file()} == before


def test_resume_of_finished_runs_accepts_other_report_values(trained, tmp_path):
    output = tmp_path / "copy"
    shutil.copytree(trained, output)
    result = run("run_mnist.py", "--output", output, "--resume", "--runs", "2", "--epochs", "2",
                 "--limit", "256", *SMALL, "--set", "steps_per_execution=3")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("is already complete") == 2
    for index in (0, 1):
        results = output / f"run_{index}" / "results.json"
        assert json.loads(results.read_text())["test_accuracy"] == json.loads(
            (trained / f"run_{index}" / "results.json").read_text())["test_accuracy"]


def test_resume_trains_only_the_runs_not_yet_finished(trained, tmp_path):
    output = tmp_path / "copy"
    shutil.copytree(trained, output)
    shutil.rmtree(output / "run_1")
    (output / "run_0" / "checkpoint.h5").unlink()  # A finished run needs only its results.json.
    before = (output / "run_0" / "results.json").read_bytes()
    result = run("run_mnist.py", "--output", output, "--resume", "--runs", "2", "--epochs", "2",
                 "--limit", "256", *SMALL, "--set", "test_samples=3", "--quiet")
    assert result.returncode == 0, result.stderr
    assert (output / "run_0" / "results.json").read_bytes() == before
    assert json.loads((output / "run_1" / "results.json").read_text())["complete"]
    summary = json.loads((output / "summary.json").read_text())
    assert [entry["run"] for entry in summary["runs"]] == ["run_0", "run_1"]
    assert summary["processes"] == 1  # One run left to train, with both cores' threads.


@pytest.mark.parametrize("config, fragment", [
    ("run_nothing", "no config module 'run_nothing'"),
    ("../run_mnist", "not a run module name"),
    ("os", "not a run module name"),
])
def test_evaluate_rejects_bad_config_names(trained, config, fragment):
    assert_clean_error(run("evaluate.py", config, trained / "run_0" / "network.h5"), fragment)


def test_evaluate_rejects_bad_weights(trained, tmp_path):
    assert_clean_error(run("evaluate.py", "run_mnist", tmp_path / "none.h5"), "does not exist")
    corrupt = tmp_path / "network.h5"
    corrupt.write_bytes(b"garbage")
    (tmp_path / "network.json").write_text((trained / "run_0" / "network.json").read_text())
    assert_clean_error(run("evaluate.py", "run_mnist", corrupt, "--no-accuracy"), "HDF5")
    assert_clean_error(run("evaluate.py", "run_translated_mnist", trained / "run_0" / "network.h5"),
                       "do not match config run_translated_mnist", "dataset")


def test_evaluate_refuses_weights_of_another_architecture(trained, tmp_path):
    from ram import config as config_module
    from ram import model as model_module
    from ram import storage
    (tmp_path / "network.json").write_text((trained / "run_0" / "network.json").read_text())
    other = model_module.RecurrentAttentionModel(config_module.Config(core_size=64), seed=0)
    storage.save_weights(other, tmp_path / "network.h5")
    assert_clean_error(run("evaluate.py", "run_mnist", tmp_path / "network.h5", "--no-accuracy"),
                       "another architecture")


def test_evaluate_takes_the_set_values_the_weights_were_trained_with(trained, tmp_path):
    from ram import config as config_module
    from ram import model as model_module
    from ram import storage
    narrow = {**json.loads((trained / "run_0" / "network.json").read_text()), "glimpse_hidden": 48}
    (tmp_path / "network.json").write_text(json.dumps(narrow))
    weights = tmp_path / "network.h5"
    storage.save_weights(model_module.RecurrentAttentionModel(
        config_module.Config.from_dict(narrow), seed=0), weights)
    assert_clean_error(run("evaluate.py", "run_mnist", weights, "--no-accuracy", "--images", "0"),
                       "glimpse_hidden: run_mnist has 128, the weights 48", "give the same --set")
    result = run("evaluate.py", "run_mnist", weights, "--no-accuracy", "--images", "0",
                 "--set", "glimpse_hidden=48")
    assert result.returncode == 0, result.stderr


def test_plot_handles_one_run_several_runs_and_bad_files(trained, tmp_path):
    result = run("plot.py", trained / "run_0" / "results.json", "--output", tmp_path / "one.png")
    assert result.returncode == 0 and (tmp_path / "one.png").stat().st_size > 10000
    result = run("plot.py", trained, "--output", tmp_path / "all.png")
    assert result.returncode == 0 and "2 run(s), 1 config(s)" in result.stdout
    assert_clean_error(run("plot.py", tmp_path / "missing.json"), "does not exist")
    malformed = tmp_path / "malformed.json"
    malformed.write_text('{"epochs": [')
    assert_clean_error(run("plot.py", malformed), "not valid JSON")
    other = tmp_path / "other.json"
    other.write_text('{"hello": 1}')
    assert_clean_error(run("plot.py", other), "not a results.json file")


def test_evaluate_writes_every_picture(trained, tmp_path):
    # An earlier evaluation's pictures that this one does not overwrite go; other files stay.
    stale = ["symbol_0_glimpse_9_zoom_0.png", "symbol_0_glimpse_9.gif", "symbol_7.png",
             "symbol_7.gif"]
    kept = ["notes.txt", "symbol_0_glimpse_9_zoom_0.png.bak", "my_symbol_7.png"]
    for name in stale + kept:
        (tmp_path / name).write_text("old")
    result = run("evaluate.py", "run_mnist", trained / "run_0" / "network.h5", "--images", "2",
                 "--samples", "2", "--output", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "test accuracy" in result.stdout and "sampled episodes" in result.stdout
    names = {path.name for path in tmp_path.iterdir()}
    results = json.loads((trained / "run_0" / "results.json").read_text())
    glimpses = results["config"]["num_glimpses"]
    for index in range(2):
        assert f"symbol_{index}.png" in names and f"symbol_{index}.gif" in names
        for step in range(glimpses):
            assert f"symbol_{index}_glimpse_{step}_zoom_0.png" in names
        assert f"symbol_{index}_glimpse_{glimpses}_zoom_0.png" not in names
    assert "glimpses.png" in names
    assert not set(stale) & names and set(kept) <= names
    assert f"removed {len(stale)} pictures" in result.stdout
    report = json.loads((tmp_path / "evaluation.json").read_text())
    assert report["test_accuracy"] == pytest.approx(results["test_accuracy"])


def test_results_table_reads_the_summary_and_sampled_figures(trained, tmp_path):
    summary = json.loads((trained / "summary.json").read_text())
    result = run("tools/results_table.py", trained / "summary.json")
    assert result.returncode == 0, result.stderr
    row = result.stdout.strip().splitlines()[-1]
    errors = [100 * (1 - entry["test_accuracy"]) for entry in summary["runs"]]
    assert row.startswith("| MNIST 28x28, 7 glimpses | 1.07% | 0.67% |")
    assert f"| **{np.mean(errors):.2f}%** +/- {np.std(errors, ddof=1):.2f} (2 runs) |" in row
    # No sampled_accuracy.json beside this summary: the runs' own figure (3 sampled episodes).
    assert (f"| **{100 * (1 - summary['test_accuracy_sampled_mean']):.2f}%** +/- "
            f"{100 * summary['test_accuracy_sampled_std']:.2f} (M = 3) |") in row
    # The fixture trained with --set batch_size=32: the command that trains it again says so.
    assert row.endswith("| `python run_mnist.py --set batch_size=32 --set epochs=2` |")
    copy = tmp_path / "summary.json"
    copy.write_text(json.dumps(summary))
    for run_name in ("run_0", "run_1"):
        (tmp_path / run_name).mkdir()
        (tmp_path / run_name / "results.json").write_text((trained / run_name / "results.json").read_text())
    (tmp_path / "sampled_accuracy.json").write_text(json.dumps(
        {"samples": 10, "test_accuracy_sampled_mean": 0.9953, "test_accuracy_sampled_std": 0.0004}))
    result = run("tools/results_table.py", tmp_path)
    assert "| **0.47%** +/- 0.04 (M = 10) |" in result.stdout  # The file comes first.
    assert_clean_error(run("tools/results_table.py", tmp_path / "none.json"), "does not exist")


@pytest.mark.parametrize("content, fragment", [
    ("", "not valid JSON"),
    ('{"patch_size": 8, "core_si', "not valid JSON"),
    ("[1, 2]", "expected a JSON object"),
    ('{"patch_size": "eight"}', "not a valid config"),
    ('{"no_such_field": 1}', "unknown config key"),
])
def test_evaluate_rejects_bad_network_json(trained, tmp_path, content, fragment):
    (tmp_path / "network.h5").write_bytes((trained / "run_0" / "network.h5").read_bytes())
    (tmp_path / "network.json").write_text(content)
    assert_clean_error(run("evaluate.py", "run_mnist", tmp_path / "network.h5"), fragment)


@pytest.mark.parametrize("content, fragment", [
    ("", "not valid JSON"),
    ('{"epochs": [{"epoch": 1, "validation_accuracy": 0.5', "not valid JSON"),
    ('{"epochs": []}', "no completed epoch"),
    ('{"epochs": [{"epoch": 1}]}', "without accuracy figures"),
])
def test_plot_rejects_empty_truncated_and_incomplete_results(tmp_path, content, fragment):
    path = tmp_path / "results.json"
    path.write_text(content)
    assert_clean_error(run("plot.py", path), fragment)


def test_foveation_scores_glimpses_against_the_digit_positions():
    from ram import foveation
    # Digit centres at canvas offsets (x, y) = (0, 0), (26, 0), (-13, 13), (0, 0) on 60x60, with
    # 26 pixels a location unit (run_translated_mnist's retina).
    positions = np.array([[16, 16], [16, 42], [29, 3], [16, 16]])
    locations = np.array([[[0, 0], [1, 1]],            # on the digit, then 26 px below it
                          [[1, 0], [1, 0]],            # on the digit twice
                          [[0.5, -0.5], [-0.5, 0.5]],  # 36.8 px away, then on the digit
                          [[1, 1], [-1, -1]]])         # never on the digit (36.8 px away)
    correct = np.array([True, True, False, False])
    report = foveation.foveation(locations, correct, positions, 60, 26.0)
    assert report["test_accuracy"] == 0.5
    assert report["on_digit"] == [0.5, 0.5]
    assert report["images_without_glimpse_on_digit"] == 0.25
    assert report["accuracy_without_glimpse_on_digit"] == 0.0
    assert report["accuracy_with_glimpse_on_digit"] == pytest.approx(2 / 3)
    assert report["median_distance_px"] == pytest.approx([13 * 2 ** 0.5, 13 * 2 ** 0.5])
    bands = {band["from_px"]: (band["images"], band["accuracy"]) for band in report["accuracy_by_digit_offset"]}
    assert bands == {0: (2, 0.5), 10: (1, 0.0), 20: (1, 1.0)}
    assert len(foveation.report_lines(report)) == 5


def test_foveation_is_refused_for_mnist_models(trained):
    assert_clean_error(run("evaluate.py", "run_mnist", trained / "run_0" / "network.h5",
                           "--foveation"), "--foveation needs a translated or cluttered model")
