import sys

from hub.cli import main

# Guarded: a spawned child process (the demo's loopback Sentinel Hub, analytics workers)
# imports the parent's main module again, and must not start another hub.
if __name__ == "__main__":
    sys.exit(main())
