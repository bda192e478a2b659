"""fleetstream: a live inventory of a large AWS estate over Kafka."""

import sys
from pathlib import Path

__version__ = "0.1.0"

# The producers and consumer groups are the top-level packages `producers` and `consumers`.
# The wheel installs them inside this package (setup.py), not at the top of site-packages where
# such generic names would clash; a checkout keeps them beside fleetstream/. Either way the
# folder that holds them goes on the path once, here, before any command imports a group.
_here = Path(__file__).resolve().parent
_groups = _here / "_groups"
_holder = str(_groups if _groups.is_dir() else _here.parent)
if _holder not in sys.path:
    sys.path.append(_holder)
