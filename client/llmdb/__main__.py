"""`python -m llmdb`: the `llmdb` command."""

import sys

from llmdb.cli import main

sys.exit(main())
