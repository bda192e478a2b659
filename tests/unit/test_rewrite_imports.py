"""tools/rewrite_imports.py carries code written against the flat modules onto the floors.

rewrite_imports: leave this file alone (its fixtures hold the old paths on purpose).
"""

from __future__ import annotations

import pytest

from tools.rewrite_imports import rewrite

pytestmark = pytest.mark.unit

OLD = """\
from fleetstream import kafka, kafka_admin
from fleetstream import serde
from fleetstream.config import Settings
from fleetstream.devstack.seed import seed_estate
from consumers.lag.status import Rules, pending_records
from producers.accounts import list_accounts
target = "fleetstream.kafka.producer"
handler = "fleetstream.lambda_mode.handlers.describer"
# see fleetstream/loop.py and fleetstream/devstack/stack.py
"""

NEW = """\
from fleetstream.kafka import clients as kafka
from fleetstream.kafka import admin as kafka_admin
from fleetstream.serde import avro as serde
from fleetstream.base.config import Settings
from devstack.seed import seed_estate
from consumers.lag.status import Rules
from fleetstream.kafka.admin import pending_records
from fleetstream.aws.accounts import list_accounts
target = "fleetstream.kafka.clients.producer"
handler = "fleetstream.apps.lambda_mode.handlers.describer"
# see fleetstream/runtime/loop.py and devstack/stack.py
"""


def test_old_paths_become_the_floors_paths() -> None:
    assert rewrite(OLD, python=True) == NEW


def test_a_second_run_changes_nothing() -> None:
    assert rewrite(NEW, python=True) == NEW


def test_names_that_did_not_move_stay() -> None:
    text = "from fleetstream.catalog import CATALOG\nfrom consumers.sink.main import run\n"
    assert rewrite(text, python=True) == text
