"""The project as a package: `pip install .` gives `import ram` and the commands, and its
dependencies are those of requirements.txt."""

import os
import pathlib
import shutil
import subprocess
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_pyproject_and_requirements_name_the_same_dependencies():
    requirements = [line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
                    if line.strip() and not line.startswith(("#", "-e"))]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["test"]
    assert sorted(requirements) == sorted(declared)
    modules = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["py-modules"]
    assert sorted(modules) == sorted(path.stem for path in ROOT.glob("run_*.py"))


def test_the_package_installs_with_its_commands(tmp_path):
    """`pip install .` into a fresh virtual environment (its dependencies lent from this one, so
    that nothing is downloaded): the commands exist and work from any folder."""
    environment = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", environment], check=True, timeout=120)
    site = next(environment.glob("lib/python*/site-packages"))
    dependencies = [path for path in sys.path if path.endswith("site-packages")]
    (site / "dependencies.pth").write_text("\n".join(dependencies) + "\n")
    python = environment / "bin" / "python"
    clean = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    # A copy of what the package is made of, so that the build leaves nothing in the tree.
    source = tmp_path / "source"
    source.mkdir()
    for name in ["pyproject.toml", "README.md", *(path.name for path in ROOT.glob("run_*.py"))]:
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "ram", source / "ram", ignore=shutil.ignore_patterns("__pycache__"))
    install = subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-deps",
                              "--no-build-isolation", str(source)], capture_output=True,
                             text=True, timeout=300)
    assert install.returncode == 0, install.stderr
    for command in ("ram-train", "ram-evaluate", "ram-plot", "ram-predict", "ram-export"):
        result = subprocess.run([environment / "bin" / command, "--help"], capture_output=True,
                                text=True, timeout=120, cwd=tmp_path, env=clean)
        assert result.returncode == 0 and "usage:" in result.stdout, command + result.stderr
    result = subprocess.run([environment / "bin" / "ram-train", "run_mnist", "--help"],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path, env=clean)
    assert result.returncode == 0 and "--resume" in result.stdout, result.stderr
    where = subprocess.run([python, "-c", "import ram; print(ram.__file__)"], capture_output=True,
                           text=True, timeout=60, cwd=tmp_path, env=clean)
    assert where.stdout.startswith(str(site)), where.stdout  # The installed copy, not the tree.
