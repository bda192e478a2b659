"""fleetstream: a live inventory of a large AWS estate over Kafka."""

import sys
from pathlib import Path

__version__ = "0.1.0"

# The producers and consumer groups are the top-level packages `producers` and `consumers`.
# The wheel installs them inside this package (setup.py), not at the top of site-packages where
# such generic names would clash; a checkout keeps them beside fleetstream/. Either way the
# folder that holds them goes on the path once, here, before any command imports a group.
# Installed, the groups' folder goes first: a distribution of another project named
# `consumers` or `producers` in site-packages must not shadow them. In a checkout the repository
# root goes last (it is usually on the path already, and it holds tests/ and tools/ too).
_here = Path(__file__).resolve().parent
_groups = _here / "_groups"
if _groups.is_dir():
    if str(_groups) not in sys.path:
        sys.path.insert(0, str(_groups))
elif str(_here.parent) not in sys.path:
    sys.path.append(str(_here.parent))
