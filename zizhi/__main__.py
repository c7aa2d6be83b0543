"""`python -m zizhi`: the same as the `zizhi` command."""

import sys

from zizhi.cli import main

sys.exit(main())
