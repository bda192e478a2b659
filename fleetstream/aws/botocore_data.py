"""One botocore data loader per process, shared by every botocore session fleetstream makes.

botocore keeps the service models it parsed in its loader (EC2's alone is about 14 MB of
Python objects); each session made with botocore.session.get_session() has a loader of its
own, so a process with a hub session, a member session, the catalog engine's session and the
DynamoDB session held several copies of the same models.
"""

from __future__ import annotations

import functools

import botocore.loaders
import botocore.session


@functools.cache
def shared_loader() -> botocore.loaders.Loader:
    """The process' loader (created on first use; a race creates one spare, never two in use)."""
    # A throwaway session's loader honours AWS_DATA_PATH and the config's data_path.
    loader: botocore.loaders.Loader = botocore.session.get_session().get_component("data_loader")
    return loader


def new_session() -> botocore.session.Session:
    """A botocore session whose service models come from the process' shared loader."""
    core = botocore.session.get_session()
    core.register_component("data_loader", shared_loader())
    return core
