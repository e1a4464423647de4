"""The command line's parser: argparse in the user's language, global options anywhere, help everywhere.

- argparse's own words ("usage:", "positional arguments", "options", "invalid choice", its error
  messages) are looked up through ``gettext`` at the moment they are used; ``in_language()``
  answers those look-ups from ``ARGPARSE_ZH`` while the parser is built and used, in the Chinese
  interface (the language is chosen as everywhere else: ``scanstation.i18n``).
- The global options (``--home``, ``--user``, ``--json``, ``--lang``, ``--version``) are added to every
  sub-command with ``default=SUPPRESS`` (``spread_globals``), so ``scanstation catalog list --json``
  means what ``scanstation --json catalog list`` means; a value given after the sub-command wins.
- Options without their own help text get the shared wording of ``COMMON_HELP`` (one place for
  "档号 of the dossier" and the like); each command gets its examples (``scanstation.cli.examples``)
  as the help's epilog.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys

from scanstation.i18n import is_english, tr

#: argparse (Python 3.11+) message ids -> Chinese.
ARGPARSE_ZH = {
    "usage: ": "用法：",
    "positional arguments": "位置参数",
    "options": "选项",
    "show this help message and exit": "显示此帮助并退出",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "unrecognized arguments: %s": "无法识别的参数：%s",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "ignored explicit argument %r": "多余的值 %r",
    "the following arguments are required: %s": "缺少以下必需参数：%s",
    "one of the arguments %s is required": "须给出参数 %s 之一",
    "expected one argument": "需要一个值",
    "expected at most one argument": "最多只能有一个值",
    "expected at least one argument": "至少需要一个值",
    "ambiguous option: %(option)s could match %(matches)s": "选项有歧义：%(option)s 可以是 %(matches)s",
    "unexpected option string: %s": "意外的选项：%s",
    "invalid %(type)s value: %(value)r": "无效的值 %(value)r（应为 %(type)s）",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的选择：%(value)r（可选：%(choices)s）",
    "%(prog)s: error: %(message)s\n": "%(prog)s：错误：%(message)s\n",
    "can't open '%(filename)s': %(error)s": "无法打开“%(filename)s”：%(error)s",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "未知的命令 %(parser_name)r（可选：%(choices)s）",
}
ARGPARSE_ZH_PLURAL = {"expected %s argument": "需要 %s 个值"}
TYPE_ZH = {"int": "整数", "float": "数字"}


@contextlib.contextmanager
def in_language():
    """argparse speaks the interface language while the parser is built and used."""
    if is_english():
        yield
        return
    saved = argparse._, argparse.ngettext

    def gettext(message: str) -> str:
        return ARGPARSE_ZH.get(message, message)

    def ngettext(singular: str, plural: str, n: int) -> str:
        return ARGPARSE_ZH_PLURAL.get(singular, singular if n == 1 else plural)

    argparse._, argparse.ngettext = gettext, ngettext
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved


class Parser(argparse.ArgumentParser):
    """Usage errors exit 2 with a short hint in the user's language, never a traceback."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)  # keep the examples' lines
        super().__init__(*args, **kwargs)

    def format_help(self):
        text = super().format_help()
        if not is_english():  # argparse ends section headings with ":"; Chinese headings take "："
            text = re.sub(r"(?m)^(\S.*[\u4e00-\u9fff）]):$", r"\1：", text)
        return text

    def error(self, message):
        for en, zh in TYPE_ZH.items():  # "invalid int value" reads "应为 整数"
            message = message.replace(f"（应为 {en}）", f"（应为{zh}）")
        self.print_usage(sys.stderr)
        sys.stderr.write(tr("error: {m}\n", "用法错误：{m}\n", m=message))
        sys.stderr.write(tr("More: {p} --help\n", "详见：{p} --help\n", p=self.prog))
        raise SystemExit(2)


def _global_options():
    from scanstation import __version__

    return [
        (
            ("--home",),
            dict(
                metavar="DIR", help=tr("station home folder (or SCANSTATION_HOME)", "工作目录（或 SCANSTATION_HOME）")
            ),
        ),
        (
            ("--user",),
            dict(metavar="NAME", help=tr("acting user (or SCANSTATION_USER)", "操作用户（或 SCANSTATION_USER）")),
        ),
        (("--json",), dict(action="store_true", help=tr("print data as JSON", "以 JSON 输出"))),
        (("--lang",), dict(choices=["zh_CN", "en"], help=tr("message language", "界面语言"))),
        (
            ("--version",),
            dict(
                action="version",
                version=f"ScanStation {__version__}",
                help=tr("show the version and exit", "显示版本号并退出"),
            ),
        ),
    ]


def subparsers_of(parser: argparse.ArgumentParser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield action


def walk(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """(path, parser) for the parser and every sub-command below it."""
    yield path, parser
    for action in subparsers_of(parser):
        seen = set()
        for name, child in action.choices.items():
            if id(child) not in seen:
                seen.add(id(child))
                yield from walk(child, path + (name,))


def add_global_options(parser: argparse.ArgumentParser) -> None:
    """The top-level global options (their defaults apply when none is given anywhere)."""
    for flags, kwargs in _global_options():
        parser.add_argument(*flags, **kwargs)


def spread_globals(parser: argparse.ArgumentParser) -> None:
    """Accept the global options after any sub-command too (SUPPRESS: an absent one keeps the
    value given before the sub-command)."""
    for path, p in walk(parser):
        for action in subparsers_of(p):
            if action.metavar in ("COMMAND", "ACTION"):
                action.metavar = tr("COMMAND", "命令") if action.metavar == "COMMAND" else tr("ACTION", "操作")
        if not path:
            continue
        group = None
        for flags, kwargs in _global_options():
            if any(flag in p._option_string_actions for flag in flags):
                continue
            if group is None:
                group = p.add_argument_group(
                    tr("global options (also accepted before the command)", "全局选项（也可写在命令之前）")
                )
            extra = {} if kwargs.get("action") == "version" else {"default": argparse.SUPPRESS}
            group.add_argument(*flags, **kwargs, **extra)


#: Shared help of options that mean the same in every command: dest -> (English, Chinese).
COMMON_HELP = {
    "number": ("档号 of the dossier", "案卷档号"),
    "numbers": ("one or more 档号", "一个或多个档号"),
    "seq": ("page number in the dossier (1 = first page)", "案卷内页号（1 为第一页）"),
    "to": ("new position (page number)", "新位置（页号）"),
    "degrees": ("clockwise rotation: 90, 180 or 270", "顺时针旋转角度：90、180 或 270"),
    "text": ("the text to record", "要记录的文字"),
    "name": ("name", "名称"),
    "id": ("identifier as listed", "列表中显示的编号"),
    "batch_id": ("batch id, e.g. X001-2024-001 (see: batch list)", "批次编号，如 X001-2024-001（见 batch list）"),
    "path": ("package folder or .zip file", "移交包目录或 .zip 文件"),
    "paths": ("image files or folders to import", "要导入的图像文件或文件夹"),
    "file": ("file to read", "要读取的文件"),
    "files": ("files to check", "要检查的文件"),
    "folder": ("folder to watch", "要监视的文件夹"),
    "dest": ("backup destination folder (a drive or share)", "备份目标文件夹（移动硬盘或共享目录）"),
    "pem": ("public key file (PEM)", "公钥文件（PEM）"),
    "kind": ("which report", "报表种类"),
    "out": ("output file or folder", "输出文件或文件夹"),
    "reason": ("the reason, kept with the record", "原因（随记录保存）"),
    "since": ("from this date or time (YYYY-MM-DD or ISO 8601)", "起始日期或时间（YYYY-MM-DD 或 ISO 8601）"),
    "until": ("up to this date or time (YYYY-MM-DD or ISO 8601)", "截止日期或时间（YYYY-MM-DD 或 ISO 8601）"),
    "limit": ("show at most this many rows", "最多显示的行数"),
    "offset": ("skip this many rows first", "跳过的行数"),
    "status": (
        "only dossiers in this state, e.g. cataloged, completed, approved",
        "仅此状态的案卷，如 cataloged、completed、approved",
    ),
    "state": ("only batches in this state", "仅此状态的批次"),
    "year": ("年度 (four digits)", "年度（四位数字）"),
    "filter_user": ("only entries of this user", "仅此用户的记录"),
    "dossier": ("only entries about this 档号", "仅与此档号有关的记录"),
    "profile": ("scan profile name (see: profile list)", "扫描方案名称（见 profile list）"),
    "device": (
        "scanner id: demo, sane:NAME or the plain SANE name (test:0), twain:NAME, folder:PATH",
        "扫描仪编号：demo、sane:名称 或 SANE 原名（如 test:0）、twain:名称、folder:路径",
    ),
    "source": ("paper source: flatbed, adf or duplex", "进纸方式：flatbed（平板）、adf（自动进纸）或 duplex（双面）"),
    "mode": (
        "colour mode: color, gray or lineart (R01)",
        "色彩模式：color（彩色）、gray（灰度）或 lineart（黑白）（R01）",
    ),
    "dpi": ("resolution in dpi, at least 200 (R02)", "分辨率（dpi），不低于 200（R02）"),
    "format": ("file format", "文件格式"),
    "quality": ("JPEG quality 1-100", "JPEG 质量 1-100"),
    "no_deskew": ("do not straighten skewed pages", "不做纠偏"),
    "no_crop": ("do not crop to the page edge", "不裁边"),
    "orientation": ("automatic page orientation", "自动判断页面方向"),
    "lock": ("lock the profile: clerks cannot override it", "锁定方案：操作员不能更改"),
    "field": (
        "catalog field to correct, e.g. declared_pages (页数), title, date",
        "要更正的字段，如 declared_pages（页数）、title、date",
    ),
    "value": ("the corrected value", "更正后的值"),
    "target": ("folder to restore into", "恢复到的文件夹"),
    "generation": ("backup generation (default: the newest)", "备份代（默认：最新）"),
    "days": ("loan period in days", "借阅天数"),
    "overdue": ("only loans past their return date", "仅显示逾期未还的借阅"),
    "alg": ("signature algorithm: sm2 (国密, default) or ed25519", "签名算法：sm2（国密，默认）或 ed25519"),
    "run_id": ("split run number (see: split runs)", "批量扫描编号（见 split runs）"),
    "move": ("hand-over number as listed by paper out / paper in", "交接编号（paper out / paper in 显示的编号）"),
    "store_person": ("the store-room person on the other side of the hand-over", "交接另一方的库房人员"),
    "due_days": ("days until the paper is due back in the store room", "应归还库房的天数"),
    "note": ("a note kept with the record", "随记录保存的备注"),
    "box": ("盒号: every dossier of this box", "盒号：该盒的全部案卷"),
}


SQLITE_INT_MIN, SQLITE_INT_MAX = -(1 << 63), (1 << 63) - 1


def bounded_int(text: str) -> int:
    """An integer argument that fits the catalog's integers (a number past them is a usage error, not a crash)."""
    value = int(text)  # ValueError: argparse says "invalid int value" in the user's language
    if not SQLITE_INT_MIN <= value <= SQLITE_INT_MAX:
        raise argparse.ArgumentTypeError(tr("{t} is out of range", "{t} 超出范围", t=text))
    return value


bounded_int.__name__ = "int"  # argparse names the type in its messages


def fill_help(parser: argparse.ArgumentParser) -> None:
    """Shared help texts for options without their own; every integer option bounded (bounded_int)."""
    for _path, p in walk(parser):
        for action in p._actions:
            if action.help is None and action.dest in COMMON_HELP:
                action.help = tr(*COMMON_HELP[action.dest])
            if action.type is int:
                action.type = bounded_int


def add_examples(parser: argparse.ArgumentParser) -> None:
    from scanstation.cli.examples import EXAMPLES

    heading = tr("Examples:", "示例：")
    for path, p in walk(parser):
        lines = EXAMPLES.get(" ".join(path))
        if lines:
            p.epilog = heading + "\n" + "\n".join(f"  scanstation {line}" for line in lines)


def leaves(parser: argparse.ArgumentParser):
    """(path, parser) of every command that runs something."""
    for path, p in walk(parser):
        if path and not any(True for _ in subparsers_of(p)):
            yield path, p
