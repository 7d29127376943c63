#!/usr/bin/env python
"""Django's command-line utility for Kyosei."""

import os
import sys
from pathlib import Path

# site/ is a source root holding the project package ``kyosei`` (the stdlib owns
# the module name ``site``), so it goes on the path here, once.
sys.path.insert(0, str(Path(__file__).resolve().parent / "site"))


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kyosei.settings")
    from kyosei.boot import load_settings_or_exit

    load_settings_or_exit()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
