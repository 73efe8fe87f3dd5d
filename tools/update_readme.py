"""Rewrite the generated tables in place: the README's results table (tools/results_table.py) and
docs/config.md's config reference (`python -m ram.config`).

    python tools/update_readme.py

Each table sits under an HTML comment that names the command producing it; the lines from the
comment's next line to the first blank line are replaced. Tests check that both are current.
"""

import argparse
import pathlib
import sys

from ram import config as config_module

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import results_table  # noqa: E402  (a script beside this one, not a package module)

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
CONFIG_DOC = ROOT / "docs" / "config.md"
TABLES = {"<!-- results table: python tools/results_table.py -->":
          lambda: results_table.table([ROOT / path / "summary.json"
                                       for path in results_table.DEFAULT_SUMMARIES]),
          "<!-- colour table: python tools/results_table.py --images -->":
          lambda: results_table.image_table([ROOT / path / "summary.json"
                                             for path in results_table.IMAGE_SUMMARIES]),
          "<!-- catch table: python tools/results_table.py --catch -->":
          lambda: results_table.catch_table([ROOT / path / "summary.json"
                                             for path in results_table.CATCH_SUMMARIES]),
          "<!-- config reference: python -m ram.config -->": config_module.reference_table}


def updated(text):
    """`text` with each table whose marker it holds made afresh."""
    lines = text.split("\n")
    for marker, make in TABLES.items():
        if marker not in lines:
            continue
        start = lines.index(marker) + 1
        end = start
        while end < len(lines) and lines[end].strip():
            end += 1
        lines[start:end] = make().split("\n")
    return "\n".join(lines)


def main(argv=None):
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args(argv)
    for path in (README, CONFIG_DOC):
        path.write_text(updated(path.read_text()))
        print(f"updated the tables in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
