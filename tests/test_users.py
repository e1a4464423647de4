import pytest

from scanstation.errors import InvalidInput, Refused
from scanstation.users import authenticate, hash_password, parse_roles
from tests.conftest import PASSWORD


def test_passwords_are_argon2id(home):
    stored = home.catalog.one("SELECT password_hash FROM users WHERE name = 'clerk1'")["password_hash"]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_authenticate(home):
    assert authenticate(home.catalog, "clerk1", PASSWORD).roles == ("clerk",)
    with pytest.raises(Refused):
        authenticate(home.catalog, "clerk1", "wrong-password")
    with pytest.raises(Refused):
        authenticate(home.catalog, "nobody", PASSWORD)


def test_disabled_user_refused(home):
    with home.catalog.write() as conn:
        conn.execute("UPDATE users SET disabled = 1 WHERE name = 'clerk2'")
    with pytest.raises(Refused) as err:
        authenticate(home.catalog, "clerk2", PASSWORD)
    assert "停用" in err.value.zh


def test_role_refused_with_clear_message(sessions):
    with pytest.raises(Refused) as err:
        with sessions["clerk1"].change("user.manage", "user.add", "user", "x"):
            pass
    assert "管理员" in err.value.zh and "clerk1" in err.value.zh


def test_parse_roles():
    assert parse_roles("admin,auditor") == ("admin", "auditor")
    with pytest.raises(InvalidInput):
        parse_roles("superuser")
