"""Which data source a config trains on: MNIST and its canvases (ram/data.py), your own images
(ram/images.py) or games of Catch (ram/games.py), and the config with every "from the data" value filled in."""

from ram import data as data_module
from ram import games
from ram import images


def open_data(config, data_path=None, limit=None, progress=None):
    """`(data source, resolved config)` for `config`; `data_path` is the MNIST `.npz` for the
    MNIST tasks and the folder or `.npz` of the "images" dataset; `limit` keeps the first N
    training images."""
    if config.dataset == "catch":
        return games.CatchGames(config, limit), config
    if config.dataset != "images":
        return data_module.Dataset(config, data_path, limit), config
    if data_path is None:
        raise data_module.DataError("the images dataset needs --data PATH: a folder of class "
                                    "folders, or an .npz of x_train, y_train, x_test, y_test")
    data, facts = images.load(data_path, config, progress)
    config = images.resolve(config, facts)
    data.check(config)
    if limit is not None:
        data = data.limited(limit)
    return data, config
