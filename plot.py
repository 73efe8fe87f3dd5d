"""`python plot.py --help`: see ram/commands/plot.py (also installed as `ram-plot`)."""

import sys

from ram.commands import plot

if __name__ == "__main__":
    sys.exit(plot.main())
