"""The ``scanstation`` command. No sub-command starts the GUI.

Command groups live in ``scanstation/cli/cmd_*.py``; each has ``register(subparsers)`` that adds its
commands with ``set_defaults(run=handler)``, where ``handler(args, ctx) -> int``. Errors are
printed here, in one place, in the user's language; the exit code comes from the error class
(``scanstation.errors.ExitCode``). Anything else is caught here too: an unexpected error is written
with its traceback to the station's log file and the user reads one sentence naming that file.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sqlite3
import sys

from scanstation import __version__
from scanstation.cli.context import CliContext
from scanstation.cli.parser import Parser, add_examples, add_global_options, fill_help, in_language, spread_globals
from scanstation.errors import ExitCode, InvalidInput, ScanStationError
from scanstation.i18n import set_language, tr


def command_modules():
    import scanstation.cli as package

    # foundation first: other modules add leaves to its groups (audit, catalog)
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: (m.name != "cmd_foundation", m.name)):
        if info.name.startswith("cmd_"):
            yield importlib.import_module(f"scanstation.cli.{info.name}")


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree (build and use it inside ``in_language()`` for Chinese argparse words)."""
    parser = Parser(
        prog="scanstation",
        description=tr(
            "ScanStation: scanning station for social-security archives.", "ScanStation 社保档案扫描工作站。"
        ),
    )
    add_global_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for module in command_modules():
        module.register(sub)
    spread_globals(parser)  # --json, --home, --user, --lang anywhere on the line
    fill_help(parser)
    add_examples(parser)
    return parser


def _pre_scan_lang(argv: list[str]) -> None:
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            set_language(argv[i + 1])
        elif arg.startswith("--lang="):
            set_language(arg.split("=", 1)[1])


def _check_text(argv: list[str]) -> None:
    """Arguments that are not valid UTF-8 (the shell passed raw bytes) are refused before anything runs."""
    for index, arg in enumerate(argv, 1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            raise InvalidInput(
                "Argument {i} is not valid UTF-8 text: {a}. Type it again; a file whose name is in another encoding "
                "(e.g. GBK from a Windows share) must be renamed first, e.g. convmv -f gbk -t utf-8 --notest NAME.",
                "第 {i} 个参数不是有效的 UTF-8 文本：{a}。请重新输入；文件名为其他编码（如来自 Windows 共享的 GBK）"
                "时请先改名，例如 convmv -f gbk -t utf-8 --notest 文件名。",
                i=index,
                a=shown[:120],
            ) from None
    for name, value in sorted(os.environ.items()):
        if name.startswith("SCANSTATION_"):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidInput(
                    "The environment variable {n} is not valid UTF-8 text; set it again.",
                    "环境变量 {n} 不是有效的 UTF-8 文本；请重新设置。",
                    n=name,
                ) from None


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    set_language(None)
    if argv == ["--version"]:  # answer at once, before every command module is imported
        print(f"ScanStation {__version__}")
        return ExitCode.OK
    _pre_scan_lang(argv)  # so that --help is already in the chosen language
    ctx = None
    try:
        _check_text(argv)
        with in_language():
            parser = build_parser()
            args = parser.parse_args(argv)
            if args.lang:
                set_language(args.lang)
            ctx = CliContext(args)
            handler = getattr(args, "run", None)
            if args.command and handler is None:  # a group without its sub-command
                parser.parse_args(argv + ["--help"])
                return ExitCode.USAGE
        import scanstation.bootstrap  # noqa: F401 (every domain's catalog migrations, before a home is opened)

        if not args.command:
            from scanstation.ui.app import run_gui

            return run_gui(ctx)
        return int(handler(args, ctx) or 0)
    except ScanStationError as exc:
        print(exc.message, file=sys.stderr)
        return int(exc.exit_code)
    except BrokenPipeError:  # output piped into `head` and the like
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return ExitCode.OK
    except KeyboardInterrupt:
        print(tr("Interrupted; everything stored so far is kept.", "已中断；已保存的内容全部保留。"), file=sys.stderr)
        return ExitCode.INTERRUPTED
    except OSError as exc:  # a file name too long, a folder that cannot be read, ...: say which, in words
        from scanstation.error_log import describe_os_error

        message, unexpected = describe_os_error(exc)
        if unexpected:
            message += " " + _logged(ctx, argv, exc)
        print(message, file=sys.stderr)
        return ExitCode.STORAGE
    except sqlite3.OperationalError as exc:
        if _busy(exc):  # another process holds the catalog's write lock beyond the busy timeout
            print(
                tr(
                    "The catalog is busy: another running station or command is writing to it. Try again in a "
                    "moment; nothing was changed.",
                    "目录数据库正忙：另一个运行中的扫描站或命令正在写入。请稍后再试；未做任何修改。",
                ),
                file=sys.stderr,
            )
            return ExitCode.LOCKED
        return _unexpected(ctx, argv, exc)
    except Exception as exc:
        return _unexpected(ctx, argv, exc)
    finally:
        if ctx is not None:
            ctx.close()


def _busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "database is locked" in text or "database is busy" in text


def _unexpected(ctx, argv: list[str], exc: BaseException) -> int:
    """A defect: the traceback goes to the log file, the user reads one sentence naming it."""
    print(
        tr(
            "The command stopped because of an unexpected error ({e}). {more}",
            "命令因意外错误而停止（{e}）。{more}",
            e=type(exc).__name__,
            more=_logged(ctx, argv, exc),
        ),
        file=sys.stderr,
    )
    return ExitCode.INTERNAL


def _logged(ctx, argv: list[str], exc: BaseException) -> str:
    from scanstation.error_log import write

    home = None
    try:
        home = ctx.home_path() if ctx is not None else None
    except Exception:
        pass
    path = write(home, argv, exc)
    if path is None:
        return tr("The details could not be written to a log file.", "详细信息未能写入日志文件。")
    return tr(
        "The details are in {p}; send that file to your support contact. Everything stored before is kept.",
        "详细信息已写入 {p}，请将该文件发给技术支持。此前保存的内容均完好。",
        p=path,
    )


def entry() -> int:
    """Console entry point; also the frozen program's (spawned workers re-enter here)."""
    import multiprocessing

    multiprocessing.freeze_support()
    return main()


if __name__ == "__main__":
    raise SystemExit(entry())
