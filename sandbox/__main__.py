"""``python -m sandbox``: run the sandbox alone, e.g. to try the web chat."""

from __future__ import annotations

import sys

from sandbox.standalone import main

if __name__ == "__main__":
    sys.exit(main())
