"""`python export.py --help`: see ram/commands/export.py (also installed as `ram-export`)."""

import sys

from ram.commands import export

if __name__ == "__main__":
    sys.exit(export.main())
