"""pytest setup: import the package from this checkout (python/), whatever the working dir."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
