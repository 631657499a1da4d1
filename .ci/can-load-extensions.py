"""Exit 0 when this Python's sqlite3 can load SpatiaLite (pyenv builds often cannot)."""

import sqlite3
import sys

try:
    connection = sqlite3.connect(":memory:")
    connection.enable_load_extension(True)
    connection.load_extension("mod_spatialite")
except (AttributeError, sqlite3.Error) as error:
    sys.stderr.write(f"{sys.executable}: cannot load SpatiaLite ({error})\n")
    sys.exit(1)
