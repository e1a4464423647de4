"""What a command handler gets: the open home, the acting user, and output helpers."""

from __future__ import annotations

import json
import os
import sys

from scanstation.errors import Refused
from scanstation.home import Home, upgrade_wait_message
from scanstation.i18n import tr
from scanstation.service import Session
from scanstation.users import authenticate, password_from


def _say_waiting() -> None:
    print(upgrade_wait_message(), file=sys.stderr, flush=True)


class CliContext:
    def __init__(self, args):
        self.args = args
        self._home: Home | None = None
        self._session: Session | None = None

    @property
    def json(self) -> bool:
        return bool(getattr(self.args, "json", False))

    def home_path(self):
        from pathlib import Path

        from scanstation.home import default_home

        return Path(self.args.home) if getattr(self.args, "home", None) else default_home()

    def home(self) -> Home:
        if self._home is None:
            self._home = Home.open(self.home_path(), on_wait=_say_waiting)
        return self._home

    def session(self) -> Session:
        """The authenticated acting user (``--user``/SCANSTATION_USER, password prompt/SCANSTATION_PASSWORD)."""
        if self._session is None:
            home = self.home()  # a missing home is the first thing to say
            name = getattr(self.args, "user", None) or os.environ.get("SCANSTATION_USER")
            if not name:
                raise Refused(
                    "This command needs an identified user: pass --user NAME or set SCANSTATION_USER.",
                    "此命令需要明确的操作用户：请使用 --user 用户名 或设置 SCANSTATION_USER。",
                )
            password = password_from("SCANSTATION_PASSWORD", tr("Password for {n}: ", "{n} 的密码：", n=name))
            self._session = Session(home, authenticate(home.catalog, name, password))
            self._unlock_personal_data(home)
        return self._session

    @staticmethod
    def _unlock_personal_data(home) -> None:
        """R40: the personal-data key is unlocked at login when its passphrase is given."""
        from scanstation.custody import protection

        passphrase = os.environ.get("SCANSTATION_PROTECT_PASSPHRASE")
        if passphrase and protection.is_enabled(home) and protection.unlocked_key(home) is None:
            protection.remember(home, protection.unlock(home, passphrase))

    def adopt(self, home: Home, session: Session | None = None) -> None:
        """Use a home opened by the command itself (init, demo)."""
        self._home, self._session = home, session

    def emit(self, data, lines: list[str] | str | None = None) -> None:
        """Print ``data`` as JSON with --json, else the human ``lines``."""
        if self.json:
            print(json.dumps(data, ensure_ascii=False, indent=None, default=str))
        elif lines is not None:
            print(lines if isinstance(lines, str) else "\n".join(lines))

    def warn(self, message: str) -> None:
        print(message, file=sys.stderr)

    def close(self) -> None:
        if self._home is not None:
            self._home.close()
            self._home = None
