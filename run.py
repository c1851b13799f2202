#!/usr/bin/env python3
"""``python run.py ...`` in a checkout: the same as the installed ``yanzhou-governance``
command (the command line lives in yanzhou_governance/cli.py)."""

import sys

from yanzhou_governance.cli import main

if __name__ == "__main__":
    sys.exit(main())
