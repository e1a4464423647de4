"""Station settings, declared once with their defaults (stored as JSON in the catalog's ``settings`` table).

This module is the one way in and out of that table:
- ``get(db, key)`` reads a declared setting (its default when not stored), ``read(db, key)`` any stored
  value (also the station's own bookkeeping keys such as ``search.index``);
- ``set_value(session, key, value)`` is the administrator's change: validated and audited;
- ``store(conn, key, value)`` writes one value inside the caller's transaction (a module that changes a
  setting as part of a larger audited change, e.g. enabling protection or recording a backup).
``db`` is a home, a catalog (SQLite or PostgreSQL) or a connection of one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from scanstation import id_number
from scanstation.errors import InvalidInput


@dataclass(frozen=True)
class Setting:
    key: str
    default: object
    en: str
    zh: str
    choices: tuple = ()  # the only values allowed (empty: any)
    check: Callable[[object], tuple[str, str] | None] | None = None  # why a value is not valid (en, zh), or None


DECLARED: dict[str, Setting] = {
    s.key: s
    for s in [
        Setting(
            "dossier_number.schema", None, "档号 schema (None = social-insurance default)", "档号结构（空 = 社保默认）"
        ),
        Setting(
            "retention.table",
            None,
            "Retention table by business category (None = seeded table)",
            "保管期限表（空 = 默认表）",
        ),
        Setting("session.idle_lock_minutes", 15, "Lock the GUI after this many idle minutes", "空闲多少分钟后锁定界面"),
        Setting(
            "transfer.deadline", "03-31", "Transfer deadline (MM-DD of the next year)", "移交截止日期（次年 月-日）"
        ),
        Setting("acceptance.sample_percent", 5.0, "Acceptance sample, % of dossiers (R25)", "接收抽检比例 %（R25）"),
        Setting("acceptance.pass_percent", 95.0, "Acceptance pass rate, % (R25)", "接收合格率 %（R25）"),
        Setting(
            "backup.max_age_days",
            7,
            "Remind when the last verified backup is older (days)",
            "最近一次已校验备份超过多少天时提醒",
        ),
        Setting(
            "backup.last_verified_at", None, "When the last backup verification passed", "最近一次备份校验通过的时间"
        ),
        Setting("backup.last_verify", None, "Result of the last backup verification", "最近一次备份校验结果"),
        Setting("protect.enabled", False, "Personal fields encrypted at rest (R40)", "个人信息字段已加密存储（R40）"),
        Setting("protect.images", False, "Page images encrypted at rest (R40)", "页面图像已加密存储（R40）"),
        Setting(
            "fixity.interval_days",
            7,
            "Run a fixity check from the GUI when the last one is older (days; 0 = never)",
            "距上次固定性校验超过多少天时由界面自动执行（天；0 = 不执行）",
        ),
        Setting(
            "fixity.sample_percent",
            10.0,
            "Share of pages re-hashed by the scheduled fixity check (%)",
            "定期固定性校验抽查的页面比例（%）",
        ),
        Setting(
            "sent_batches.keep_years", 5, "Keep sent batches for this many years (R38)", "已移交批次保留年限（R38）"
        ),
        Setting(
            "network.max_package_gb", 50, "Largest package taken over the network (GB)", "经网络接收的移交包上限（GB）"
        ),
        Setting(
            "network.session_minutes",
            30,
            "Browser sessions end after this many idle minutes",
            "浏览器会话空闲多少分钟后失效",
        ),
        Setting(
            "station.demo", False, "Demo station (sample catalog and demo users)", "演示工作站（样例目录和演示用户）"
        ),
        Setting(
            "capture.demo_scanner",
            False,
            "Offer the demo scanner in the window (training only: its pages are invented)",
            "在窗口中提供演示扫描仪（仅用于培训：其页面是生成的）",
        ),
        Setting(
            "ocr.engine",
            "auto",
            "OCR engine: tesseract (about 0.25 GB per worker, about 2x faster, several % reading errors) | rapidocr "
            "(PP-OCR, about 0.65 GB per worker, about 2 s of processor time per page, under 1 % errors) | "
            "auto (rapidocr when memory allows)",
            "识别引擎：tesseract（每进程约 0.25 GB，约快 2 倍，识别错误数个百分点）| rapidocr（PP-OCR，每进程约 0.65 GB，"
            "每页约 2 秒处理器时间，错误低于 1 %）| auto（内存足够时用 rapidocr）",
            choices=("tesseract", "rapidocr", "auto"),
        ),
        Setting(
            id_number.MASK_SETTING,
            id_number.DEFAULT_MASK_KEEP,
            # shown in the window's settings: no rule number there (R40)
            "ID numbers in lists and exports: characters kept visible at the start + at the end "
            "(at most 6+4: the birth date stays hidden)",
            "列表和导出中的身份证号：保留的前几位 + 后几位（最多 6+4：出生日期必须隐藏）",
            check=id_number.mask_keep_problem,
        ),
        Setting(
            "ocr.low_confidence",
            80.0,
            "OCR confidence (0-100) below which the QC desk marks a page",
            "识别置信度（0-100）低于此值的页面在质检台标出",
        ),
    ]
}


def read(db, key: str, default=None):
    """The stored value of ``key`` (any key, declared or the station's own bookkeeping), else ``default``."""
    db = getattr(db, "catalog", db)  # a home or a session: its catalog
    conn = getattr(db, "conn", db)
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return default if row is None else json.loads(row[0])


def get(db, key: str):
    """A declared setting: the stored value, or the declared default."""
    setting = DECLARED[key]
    value = read(db, key)
    return setting.default if value is None else value


def store(conn, key: str, value) -> None:
    """Write ``value`` (as JSON) inside the caller's transaction on ``conn``."""
    conn.execute(
        "INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, json.dumps(value, ensure_ascii=False)),
    )


def problem(key: str, value) -> tuple[str, str] | None:
    """Why ``value`` is not valid for the declared setting ``key``, as (en, zh); None when it is."""
    setting = DECLARED[key]
    if setting.choices and value not in setting.choices:
        return (
            f"choose one of: {', '.join(map(str, setting.choices))}",
            f"可选：{', '.join(map(str, setting.choices))}",
        )
    if key == "ocr.low_confidence" and not (isinstance(value, (int, float)) and 0 <= value <= 100):
        return "a confidence from 0 to 100", "应为 0 到 100 之间的置信度"
    return setting.check(value) if setting.check else None


def set_value(session, key: str, value) -> None:
    """An administrator's change of a declared setting: validated, written and audited in one transaction."""
    if key not in DECLARED:
        raise InvalidInput("Unknown setting '{key}'.", "未知设置项“{key}”。", key=key)
    why = problem(key, value)
    if why:
        raise InvalidInput(
            "'{value}' is not a valid value of {key}: {why}.",
            "“{value}”不是设置项 {key} 的有效值：{why_zh}。",
            value=value,
            key=key,
            why=why[0],
            why_zh=why[1],
        )
    with session.change("settings.manage", "settings.set", "setting", key) as ch:
        ch.before = read(ch.conn, key)
        store(ch.conn, key, value)
        ch.after = value


def id_mask_rule(db) -> id_number.MaskRule:
    """The station's ID-number masking rule (``privacy.id_mask_keep``, R40) for ``id_number.mask``.

    A stored value that is not valid (written outside the station) falls back to the default rule.
    """
    value = get(db, id_number.MASK_SETTING)
    return id_number.DEFAULT_MASK_RULE if id_number.mask_keep_problem(value) else id_number.parse_mask_keep(value)
