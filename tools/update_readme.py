"""Rewrite the README's generated tables in place: the results table (tools/results_table.py) and
the config reference (`python -m ram.config`).

    python tools/update_readme.py

Each table sits under an HTML comment that names the command producing it; the lines from the
comment's next line to the first blank line are replaced. Tests check that both are current.
"""

import pathlib
import sys

from ram import config as config_module

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import results_table  # noqa: E402  (a script beside this one, not a package module)

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"
TABLES = {"<!-- results table: python tools/results_table.py -->":
          lambda: results_table.table([README.parent / path / "summary.json"
                                       for path in results_table.DEFAULT_SUMMARIES]),
          "<!-- config reference: python -m ram.config -->": config_module.reference_table}


def updated(text):
    lines = text.split("\n")
    for marker, make in TABLES.items():
        start = lines.index(marker) + 1
        end = start
        while end < len(lines) and lines[end].strip():
            end += 1
        lines[start:end] = make().split("\n")
    return "\n".join(lines)


def main():
    README.write_text(updated(README.read_text()))
    print(f"updated the tables in {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
