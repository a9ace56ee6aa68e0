import sys

from prodlint.cli import main

sys.exit(main())
