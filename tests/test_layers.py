"""The layering holds: no new upward import and no new import cycle (tools/import_check.py).

KNOWN lists what the code still does wrong today; it may only shrink. A change that adds to it fails here:
move the shared code down a layer instead.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import import_check  # noqa: E402

#: Shell-to-shell imports allowed: the command line starts the window and the network service.
ALLOWED = {"scanstation.cli.main -> scanstation.ui.app", "scanstation.cli.cmd_web -> scanstation.web.app"}

KNOWN_VIOLATIONS: set[str] = set()

#: Modules inside today's import cycles; a cycle through any other module is new. The second page pool
#: (imaging.pool, used by tests and bench/pipeline.py) and the pipeline import each other; one pool for the
#: product and the benchmark removes this last one.
KNOWN_CYCLE_MODULES: set[str] = set()


def test_no_new_upward_import():
    violations = set(import_check.layer_violations(import_check.graph())) - ALLOWED
    assert violations - KNOWN_VIOLATIONS == set()


def test_no_new_import_cycle():
    in_cycles = {m for component in import_check.cycles(import_check.graph()) for m in component}
    assert in_cycles - KNOWN_CYCLE_MODULES == set()


def test_checker_finds_a_cycle_and_an_upward_import():
    g = {
        "scanstation.a": {"scanstation.b"},
        "scanstation.b": {"scanstation.a"},
        "scanstation.storage.x": {"scanstation.capture"},
        "scanstation.capture": set(),
        "scanstation.pages": {"PySide6", "scanstation.cli.main"},
        "scanstation.cli.main": set(),
    }
    assert import_check.cycles(g) == [["scanstation.a", "scanstation.b"]]
    assert set(import_check.layer_violations(g)) == {
        "scanstation.storage.x -> scanstation.capture",
        "scanstation.pages -> PySide6",
        "scanstation.pages -> scanstation.cli.main",
    }


# -- the window executes no SQL --------------------------------------------------------------------
_SQL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|WITH|PRAGMA|BEGIN)\b", re.I)
_EXECUTING = {"execute", "executemany", "executescript", "query", "one"}


def sql_calls(source: str) -> list[int]:
    """Lines of ``source`` that call execute/executemany/executescript/query/one with SQL text."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in _EXECUTING or not node.args:
            continue
        first = node.args[0]
        parts = [first] if isinstance(first, ast.Constant) else list(ast.walk(first))
        if any(isinstance(p, ast.Constant) and isinstance(p.value, str) and _SQL.match(p.value) for p in parts):
            found.append(node.lineno)
    return found


def test_nothing_in_ui_executes_sql():
    offenders = {
        str(path.relative_to(ROOT)): lines
        for path in sorted((ROOT / "scanstation" / "ui").rglob("*.py"))
        if (lines := sql_calls(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}, "the window asks the service or domain layer, it runs no SQL itself"


def test_the_sql_check_finds_a_query():
    assert sql_calls('rows = home.catalog.query("SELECT * FROM dossiers")') == [1]
    assert sql_calls('conn.execute(f"UPDATE pages SET seq = {n}")') == [1]
    assert sql_calls("conn.executemany(\n  'insert into x values (?)', rows)") == [1]
    assert sql_calls('settings.value("window/state")') == []
    assert sql_calls('api.query("who scanned this")') == []


# -- every domain's migrations are registered, in one list ------------------------------------------
def test_every_module_with_migrations_is_in_the_bootstrap_list():
    import scanstation.bootstrap as bootstrap

    declaring = set()
    for path in (ROOT / "scanstation").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            if any(isinstance(t, ast.Name) and t.id in ("MIGRATION", "MIGRATIONS") for t in targets):
                declaring.add(import_check.module_name(path))
    listed = {m.__name__ for m in bootstrap.DOMAINS} | {"scanstation.storage.catalog"}
    assert declaring == listed
    # and every migration a module declares is registered (a list declared but never registered is lost)
    from scanstation.storage.catalog import all_migrations

    registered = set(all_migrations())
    for module in bootstrap.DOMAINS:
        for name in ("MIGRATION", "MIGRATIONS"):
            declared = getattr(module, name, None)
            if declared:
                declared = [declared] if isinstance(declared[0], int) else list(declared)
                assert set(declared) <= registered, (module.__name__, name)


def test_migrations_are_applied_in_number_order_with_unique_numbers(tmp_path):
    from scanstation.storage import migrations
    from scanstation.storage.catalog import Catalog, all_migrations

    numbers = [n for n, _, _ in all_migrations()]
    assert numbers == sorted(set(numbers)) and numbers[0] == 1
    catalog = Catalog(tmp_path / "c.sqlite")
    try:
        assert catalog.migrate() == numbers
    finally:
        catalog.close()
    try:
        migrations.register("test", (numbers[-1], "another", "SELECT 1"))
    except RuntimeError as exc:
        assert "used twice" in str(exc)
    else:
        raise AssertionError("a migration number used twice was accepted")
