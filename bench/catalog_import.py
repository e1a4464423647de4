"""Import of a large 目录: a generated .xlsx of 100,000 dossiers (10,000 with --quick).

Peer: openpyxl's read-only iteration over the same file alone (the floor any .xlsx import
pays). Prints one JSON line: rows, seconds, rows/s and the ratio import / plain iteration.
Target (foundation issue): 100,000 rows in ≤ 60 s.

    .venv/bin/python bench/catalog_import.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import openpyxl  # noqa: E402

import scanstation.bootstrap  # noqa: E402,F401 (every domain's catalog migrations)
from scanstation.catalog_import import import_catalog  # noqa: E402
from scanstation.home import Home, now_iso  # noqa: E402
from scanstation.id_number import check_char  # noqa: E402
from scanstation.service import Session  # noqa: E402
from scanstation.users import hash_password, load_user  # noqa: E402

HEADERS = [
    "序号",
    "档号",
    "题名",
    "责任者",
    "日期",
    "页数",
    "保管期限",
    "密级",
    "姓名",
    "身份证号",
    "单位名称",
    "险种",
    "业务环节",
    "盒号",
    "备注",
]
GROUPS = [
    ("DJ", "D100", "参保人员登记"),
    ("DJ", "Y", "参保单位登记"),
    ("ZH", "D100", "个人账户"),
    ("KZ", "D50", "社保卡/证/手册"),
    ("JH", "D30", "稽核/监察"),
    ("SY", "D10", "生育待遇核定"),
    ("SY", "D30", "生育支付明细"),
    ("TJ", "D10", "统计月/季报"),
]
NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周杰", "吴霞"]


def generate(path: Path, rows: int) -> None:
    rng = random.Random(1)
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("目录")
    sheet.append(["XX市社会保险事业管理中心 业务档案目录"])
    sheet.append(HEADERS)
    counters: dict[tuple, int] = {}
    for index in range(1, rows + 1):
        klass, retention, stage = GROUPS[index % len(GROUPS)]
        year = 2024 if index % 5 else 2023
        key = (klass, retention, year)
        counters[key] = counters.get(key, 0) + 1
        volume, item = divmod(counters[key] - 1, 100)
        name = NAMES[index % len(NAMES)]
        first17 = f"110105{date(1960, 1, 1) + timedelta(days=rng.randrange(15000)):%Y%m%d}{rng.randrange(1000):03d}"
        sheet.append(
            [
                index,
                f"X001-ZY·{klass}·{year}·{retention}-{volume + 1:04d}-{item + 1:03d}",
                f"{name}{stage}表",
                "XX市社会保险事业管理中心",
                date(year, 1 + index % 12, 1 + index % 28),
                2 + index % 11,
                retention,
                "内部",
                name,
                first17 + check_char(first17),
                "XX市宏达机械制造有限公司",
                "企业职工基本养老保险",
                stage,
                f"{year}-{retention}-{volume + 1:03d}",
                "",
            ]
        )
    workbook.save(path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="10,000 rows instead of 100,000")
    args = parser.parse_args()
    rows = 10_000 if args.quick else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = tmp / f"catalog-{rows}.xlsx"
        started = time.perf_counter()
        generate(path, rows)
        generated = time.perf_counter() - started
        size = path.stat().st_size

        started = time.perf_counter()
        workbook = openpyxl.load_workbook(path, read_only=True)
        cells = sum(len(row) for row in workbook.active.iter_rows(values_only=True))
        workbook.close()
        plain = time.perf_counter() - started

        home = Home.create(tmp / "home", "X001", "B01")
        with home.catalog.write() as conn:
            conn.execute(
                "INSERT INTO users (name, roles, password_hash, created_at) VALUES (?, ?, ?, ?)",
                ("bench", "clerk", hash_password("bench-password"), now_iso()),
            )
        session = Session(home, load_user(home.catalog, "bench")[0])
        started = time.perf_counter()
        result = import_catalog(session, path)
        imported = time.perf_counter() - started
        stored = home.catalog.one("SELECT count(*) AS n FROM dossiers")["n"]
        home.close()
    assert result.count == stored == rows
    print(
        json.dumps(
            {
                "bench": "catalog_import",
                "rows": rows,
                "xlsx_bytes": size,
                "cells": cells,
                "generate_s": round(generated, 2),
                "openpyxl_iter_s": round(plain, 2),
                "import_s": round(imported, 2),
                "rows_per_s": round(rows / imported),
                "ratio_import_to_openpyxl_iter": round(imported / plain, 2),
                "target_s_for_100k": 60,
                "meets_target": (imported * 100_000 / rows) <= 60,
            }
        )
    )


if __name__ == "__main__":
    main()
