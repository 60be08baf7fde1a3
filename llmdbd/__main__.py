import sys

from llmdbd.cli import main

sys.exit(main())
