"""A private PostgreSQL cluster for the tests: one per test session, a fresh database per test.

Skips (with the install hint) only when Debian's ``postgresql`` is not installed; ``bash setup.sh test``
installs it.
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import pytest

from scanstation.storage import postgres_cluster

_counter = itertools.count(1)


@pytest.fixture(scope="session")
def pg_cluster():
    if not postgres_cluster.available():
        pytest.skip("PostgreSQL is not installed (" + postgres_cluster.INSTALL_HINT + ")")
    folder = Path(tempfile.mkdtemp(prefix="ss-pg-"))
    cluster = postgres_cluster.PrivateCluster(folder).start()
    yield cluster
    cluster.stop("immediate")
    import shutil
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pg_dsn(pg_cluster):
    """A fresh, empty database in the session's cluster."""
    return pg_cluster.create_database(f"t{next(_counter)}")
