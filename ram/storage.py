"""Files a run writes and reads: weights (HDF5), configs and results (JSON), all written atomically.

Every file goes to a temporary name in the same folder, is flushed to disk, and is renamed over the
target, so a run killed at any moment leaves either the old file or the new one, never half of one.

`network.h5` holds one dataset per weight, keyed by the weight's path in the model
(`core_network/recurrent_dense/kernel`), and the config as JSON in the file's `config` attribute.
"""

import contextlib
import json
import os
import pathlib
import tempfile

import h5py
import numpy as np

WEIGHTS_FORMAT = "ram-weights-1"


def _new_file_mode():
    """The mode open() gives a new file: 0o666 less the umask (read once, at import)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


# mkstemp makes its file private (0o600); the renamed file gets the mode any other new file would.
NEW_FILE_MODE = _new_file_mode()


class StorageError(ValueError):
    """A file that is missing, unreadable, or not what it should be."""


@contextlib.contextmanager
def atomic_path(path, suffix=".tmp"):
    """Yields a temporary path beside `path`; renames it to `path` only if the block succeeds.

    The temporary name is `.<name>.<random><suffix>`; a writer that insists on an extension (Keras
    saves only to names ending in `.keras`) passes `suffix=".tmp.keras"`.
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(handle)
    try:
        yield temporary
        with open(temporary, "rb+") as written:
            os.fsync(written.fileno())
        os.chmod(temporary, NEW_FILE_MODE)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def write_json(path, value):
    with atomic_path(path) as temporary:
        with open(temporary, "w") as stream:
            json.dump(value, stream, indent=2, sort_keys=False)
            stream.write("\n")


def read_json(path, what="JSON file"):
    path = pathlib.Path(path)
    if not path.is_file():
        raise StorageError(f"{what} {path} does not exist")
    try:
        with open(path) as stream:
            return json.load(stream)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise StorageError(f"{what} {path} is not valid JSON ({error})") from None


def save_arrays(path, arrays, attributes=None):
    """Writes `{name: array}` and string attributes to an HDF5 file atomically."""
    with atomic_path(path) as temporary:
        with h5py.File(temporary, "w") as file:
            for name, array in arrays.items():
                file.create_dataset(name, data=np.asarray(array))
            for key, value in (attributes or {}).items():
                file.attrs[key] = value


def load_arrays(path, what="weights file", attributes_only=False):
    """Reads every dataset of an HDF5 file; returns `({name: array}, {attribute: value})`. With
    `attributes_only`, reads only the file's attributes (and returns no arrays)."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise StorageError(f"{what} {path} does not exist")
    arrays = {}
    try:
        with h5py.File(path, "r") as file:
            if not attributes_only:
                file.visititems(lambda name, item: arrays.__setitem__(name, item[()])
                                if isinstance(item, h5py.Dataset) else None)
            attributes = {key: file.attrs[key] for key in file.attrs}
    except (OSError, KeyError, ValueError) as error:
        raise StorageError(f"{what} {path} is not a readable HDF5 file ({error})") from None
    return arrays, {key: value.decode() if isinstance(value, bytes) else value
                    for key, value in attributes.items()}


def save_weight_arrays(arrays, path, config):
    """Saves `{path: array}` weights and their config (a `Config` or `ModelConfig`) to a
    `network.h5` atomically."""
    save_arrays(path, arrays, {"format": WEIGHTS_FORMAT, "config": config.to_json()})


def save_weights(model, path, config=None):
    """Saves the model's weights and config (default: the model's own) to `network.h5`."""
    arrays = {name: variable.numpy() for name, variable in model.weight_dict().items()}
    save_weight_arrays(arrays, path, config or model.config)


def assign_weights(model, arrays, source):
    """Assigns `{path: array}` to the model; any missing, extra or misshapen weight is an error."""
    variables = model.weight_dict()
    missing = sorted(set(variables) - set(arrays))
    extra = sorted(set(arrays) - set(variables))
    if missing or extra:
        raise StorageError(
            f"{source} holds weights of another architecture "
            f"(missing: {', '.join(missing[:3]) or 'none'}; unexpected: {', '.join(extra[:3]) or 'none'})")
    for name, variable in variables.items():
        if tuple(arrays[name].shape) != tuple(variable.shape):
            raise StorageError(f"{source} holds weights of another architecture: {name} has shape "
                               f"{tuple(arrays[name].shape)}, the model expects {tuple(variable.shape)}")
    for name, variable in variables.items():
        variable.assign(arrays[name])


def load_weights(model, path):
    arrays, attributes = load_arrays(path)
    if attributes.get("format") != WEIGHTS_FORMAT:
        raise StorageError(f"{path} is not a RAM weights file (no '{WEIGHTS_FORMAT}' format mark)")
    assign_weights(model, arrays, path)


def read_weights_config(path):
    """The config dict stored inside a `network.h5`, or None when it has none."""
    _, attributes = load_arrays(path, attributes_only=True)
    if "config" not in attributes:
        return None
    try:
        return json.loads(attributes["config"])
    except json.JSONDecodeError:
        raise StorageError(f"{path} has a corrupt config attribute") from None


class RunLock:
    """A lock file that keeps two processes from training into the same folder.

    The file holds the owner's process id and host. A lock whose process no longer runs on this
    host (a run that was killed) is stale and is taken over. Taking the lock deletes the folder's
    temporary files (`.<name>.*.tmp`, see `atomic_path`): only the lock's holder writes there, so
    any such file was left half-written by a run that died.
    """

    def __init__(self, folder):
        self.path = pathlib.Path(folder) / ".lock"
        self.held = False

    def _owner(self):
        try:
            pid, host = self.path.read_text().split()
            return int(pid), host
        except (OSError, ValueError):
            return None, None

    def acquire(self):
        import socket
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(3):
            try:
                handle = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                pid, host = self._owner()
                if pid is not None and (host != socket.gethostname() or _alive(pid)):
                    raise StorageError(
                        f"{self.path.parent} is in use by a live run (process {pid} on {host}); "
                        "wait for it or choose another --output") from None
                # Stale: its owner is gone (or the file is unreadable). Take it over.
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.path)
                continue
            with os.fdopen(handle, "w") as stream:
                stream.write(f"{os.getpid()} {socket.gethostname()}\n")
            self.held = True
            for leftover in [*self.path.parent.glob(".*.tmp"),
                             *self.path.parent.glob(".*.tmp.keras")]:
                with contextlib.suppress(OSError):
                    leftover.unlink()
            return self
        raise StorageError(f"could not take the lock {self.path}")

    def clear_stale(self):
        """Takes a stale lock over and releases it at once, deleting the temporary files its dead run
        left (see `acquire`); raises StorageError, as `acquire` does, if a live run holds it."""
        self.acquire().release()

    def release(self):
        if self.held:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
            self.held = False

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc_info):
        self.release()


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
