"""``python -m poolpilot``: the same command line as the ``poolpilot`` script.

So the command runs from any interpreter that can import the package (a virtual environment
without its ``bin/`` on PATH, a test's ``sys.executable``), not only where the script is.
"""

import sys

from poolpilot.cli import main

if __name__ == "__main__":
    sys.exit(main())
