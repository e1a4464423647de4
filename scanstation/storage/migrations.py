"""The catalog's migrations, registered by the code that owns each table.

Storage knows no domain: each domain module declares its numbered migrations beside its code and
registers them here when it is imported (``register``). ``scanstation.bootstrap`` imports every such
module in one explicit list and then calls ``complete()``; only after that does ``registered()``
answer, so a catalog is never migrated with part of its schema missing. Migrations are applied in
the order of their numbers, whoever registered them; a number is unique across the whole catalog.

A domain that must act on a catalog that has just gained tables (the search index fills itself from
the rows already there) registers an ``after_upgrade`` hook; the catalog runs the hooks after it
applied migrations to a catalog.
"""

from __future__ import annotations

from collections.abc import Callable

Migration = tuple[int, str, str]  # (number, name, SQL)

_registered: dict[int, Migration] = {}
_owners: dict[int, str] = {}
_after_upgrade: list[Callable] = []
_complete = {"done": False}


def register(owner: str, migrations: Migration | list[Migration] | tuple[Migration, ...]) -> None:
    """Add one migration or a list of them (``owner``: the registering module, for messages)."""
    # one migration or a list of them
    listed = [migrations] if migrations and isinstance(migrations[0], int) else list(migrations)
    for number, name, sql in listed:
        if number in _registered and _registered[number] != (number, name, sql):
            raise RuntimeError(f"migration number {number} used twice ({_owners[number]}, {owner})")
        _registered[number] = (number, name, sql)
        _owners[number] = owner


def after_upgrade(hook: Callable) -> Callable:
    """``hook(catalog)`` runs after migrations were applied to a catalog (once per registration)."""
    if hook not in _after_upgrade:
        _after_upgrade.append(hook)
    return hook


def upgrade_hooks() -> list[Callable]:
    return list(_after_upgrade)


def complete() -> None:
    """Every domain has registered (called by scanstation.bootstrap once it imported them all)."""
    _complete["done"] = True


def registered() -> list[Migration]:
    """Every registered migration, by number; refused until the bootstrap has registered them all."""
    if not _complete["done"]:
        raise RuntimeError(
            "The catalog's migrations are not all registered: import scanstation.bootstrap before opening a home."
        )
    return [_registered[n] for n in sorted(_registered)]


__all__ = ["Migration", "after_upgrade", "complete", "register", "registered", "upgrade_hooks"]
