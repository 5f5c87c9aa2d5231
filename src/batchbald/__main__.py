"""``python -m batchbald``: the ``batchbald`` command."""

import sys

from batchbald.cli import main

if __name__ == "__main__":
    sys.exit(main())
