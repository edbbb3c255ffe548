import sys

from galview.cli import main

sys.exit(main())
