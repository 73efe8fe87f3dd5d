"""`python predict.py --help`: see ram/commands/predict.py (also installed as `ram-predict`)."""

import sys

from ram.commands import predict

if __name__ == "__main__":
    sys.exit(predict.main())
