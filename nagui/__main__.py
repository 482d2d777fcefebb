"""`python -m nagui ...` is the `nagui` command."""
import sys

from .cli import main

sys.exit(main())
