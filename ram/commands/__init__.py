"""The project's commands, each a `main(argv)` that returns an exit status: the top-level scripts
(`evaluate.py`, `plot.py`, ...) and the console commands of `pip install .` (`ram-evaluate`,
`ram-plot`, ...) both call these."""
