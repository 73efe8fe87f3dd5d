"""`python evaluate.py --help`: see ram/commands/evaluate.py (also installed as `ram-evaluate`)."""

import sys

from ram.commands import evaluate

if __name__ == "__main__":
    sys.exit(evaluate.main())
