import sys

from galview.cli import main

if __name__ == "__main__":  # a process GalView spawns (retraining) imports this module again: do nothing then
    sys.exit(main())
