"""The ``scanstation`` command. No sub-command starts the GUI.

Command groups live in ``scanstation/cli/cmd_*.py``; each has ``register(subparsers)`` that adds its
commands with ``set_defaults(run=handler)``, where ``handler(args, ctx) -> int``. Errors are
printed here, in one place, in the user's language; the exit code comes from the error class.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys

from scanstation import __version__
from scanstation.cli.context import CliContext
from scanstation.errors import ScanStationError
from scanstation.i18n import set_language, tr


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # usage errors exit 2 with a short hint, never a traceback
        self.print_usage(sys.stderr)
        sys.stderr.write(tr("error: {m}\n", "用法错误：{m}\n", m=message))
        raise SystemExit(2)


def command_modules():
    import scanstation.cli as package
    # foundation first: other modules add leaves to its groups (audit, catalog)
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: (m.name != "cmd_foundation", m.name)):
        if info.name.startswith("cmd_"):
            yield importlib.import_module(f"scanstation.cli.{info.name}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="scanstation",
                     description=tr("ScanStation: scanning station for social-security archives.",
                                    "ScanStation 社保档案扫描工作站。"))
    parser.add_argument("--version", action="version", version=f"ScanStation {__version__}")
    parser.add_argument("--home", help=tr("station home folder (or SCANSTATION_HOME)", "工作目录（或 SCANSTATION_HOME）"))
    parser.add_argument("--user", help=tr("acting user (or SCANSTATION_USER)", "操作用户（或 SCANSTATION_USER）"))
    parser.add_argument("--json", action="store_true", help=tr("print data as JSON", "以 JSON 输出"))
    parser.add_argument("--lang", choices=["zh_CN", "en"], help=tr("message language", "界面语言"))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in command_modules():
        module.register(sub)
    return parser


def _pre_scan_lang(argv: list[str]) -> None:
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            set_language(argv[i + 1])
        elif arg.startswith("--lang="):
            set_language(arg.split("=", 1)[1])


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    set_language(None)
    if argv == ["--version"]:   # answer at once, before every command module is imported
        print(f"ScanStation {__version__}")
        return 0
    _pre_scan_lang(argv)  # so that --help is already in the chosen language
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.lang:
        set_language(args.lang)
    ctx = CliContext(args)
    try:
        if not args.command:
            from scanstation.ui.app import run_gui
            return run_gui(ctx)
        handler = getattr(args, "run", None)
        if handler is None:  # a group without its sub-command
            parser.parse_args(argv + ["--help"])
            return 2
        return int(handler(args, ctx) or 0)
    except ScanStationError as exc:
        print(exc.message, file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # output piped into `head` and the like
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
    except KeyboardInterrupt:
        print(tr("Interrupted; everything stored so far is kept.", "已中断；已保存的内容全部保留。"), file=sys.stderr)
        return 1
    finally:
        ctx.close()


def entry() -> int:
    """Console entry point; also the frozen program's (spawned workers re-enter here)."""
    import multiprocessing
    multiprocessing.freeze_support()
    return main()


if __name__ == "__main__":
    raise SystemExit(entry())
