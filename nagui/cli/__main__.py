"""`python -m nagui.cli ...` is the `nagui` command (as `python -m nagui ...` is)."""
import sys

from . import main

sys.exit(main())
