"""``python -m app`` runs the hardstep command line."""

import sys

from app.cli import main

sys.exit(main())
