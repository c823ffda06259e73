"""``python -m patchwire`` runs the command line."""

import sys

from patchwire.cli import main

sys.exit(main())
