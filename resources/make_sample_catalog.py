"""Generate the sample 目录 files in this folder; never edit the outputs by hand.

    python resources/make_sample_catalog.py

Writes sample-catalog.xlsx and sample-catalog.csv (the same dossiers; the CSV is UTF-8 with a
BOM, as Excel's "CSV UTF-8" saves it) and bad-catalog.csv (one row per kind of problem the
import must report). Output is deterministic: running it twice gives identical files.
"""

from __future__ import annotations

import csv
import io
import random
import re
import zipfile
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
FONDS = "X001"
AGENCY = "XX市社会保险事业管理中心"
TITLE_ROW = f"{AGENCY} 社会保险业务档案目录（全宗号 {FONDS}）"
HEADERS = ["序号", "档号", "题名", "责任者", "日期", "页数", "保管期限", "密级", "姓名", "身份证号", "单位名称",
           "险种", "业务环节", "盒号", "备注"]
FIXED_TIME = (2024, 1, 1, 0, 0, 0)

# 业务环节 (R15) -> 类别 code, retention, 险种, responsible, title pattern, concerns a person
CATEGORIES = {
    "参保单位登记": ("DJ", "Y", "企业职工基本养老保险", AGENCY, "{employer}参保单位登记表", False),
    "参保人员登记": ("DJ", "D100", "企业职工基本养老保险", AGENCY, "{name}参保人员登记表", True),
    "参保人员关系变动": ("DJ", "D100", "失业保险", AGENCY, "{name}参保人员增减变动表", True),
    "个人账户": ("ZH", "D100", "企业职工基本养老保险", AGENCY, "{name}个人账户对账单", True),
    "登记证": ("DJ", "D10", "企业职工基本养老保险", AGENCY, "{employer}社会保险登记证", False),
    "社保卡/证/手册": ("KZ", "D50", "医疗保险", AGENCY, "{name}社会保障卡申领登记表", True),
    "统计年报": ("TJ", "Y", "企业职工基本养老保险", AGENCY, "{year}年度社会保险统计年报", False),
    "统计月/季报": ("TJ", "D10", "企业职工基本养老保险", AGENCY, "{year}年第{quarter}季度社会保险统计季报", False),
    "稽核/监察": ("JH", "D30", "工伤保险", "XX市劳动保障监察支队", "{employer}社会保险缴费稽核通知书", False),
    "生育待遇核定": ("SY", "D10", "生育保险", "XX市医疗保障事务中心", "{name}生育待遇核定表", True),
    "生育支付明细": ("SY", "D30", "生育保险", "XX市医疗保障事务中心", "{year}年{month}月生育保险待遇支付明细表", False),
}

PEOPLE = [  # name, sex (1 male, 0 female), region code of the issuing county
    ("张伟", 1, "110105"), ("王芳", 0, "310104"), ("李娜", 0, "440106"), ("刘洋", 1, "330106"),
    ("陈静", 0, "510107"), ("杨磊", 1, "420106"), ("赵敏", 0, "320102"), ("黄强", 1, "370202"),
    ("周杰", 1, "610113"), ("吴霞", 0, "430104"), ("徐涛", 1, "350203"), ("孙丽", 0, "120101"),
    ("马军", 1, "640104"), ("朱红", 0, "410105"), ("胡斌", 1, "340104"), ("郭婷", 0, "210102"),
]
EMPLOYERS = ["XX市宏达机械制造有限公司", "XX市第一人民医院", "XX市天成建筑工程有限公司", "XX市新华书店有限公司",
             "XX市顺通物流有限公司", "XX市实验中学", "XX市恒昌食品有限公司", "XX市城市建设投资集团有限公司"]

# (业务环节, year): the sample's 30 dossiers, most of 2024, some of 2023.
PLAN = ([("参保单位登记", 2024)] * 3 + [("参保人员登记", 2024)] * 5 + [("参保人员关系变动", 2024)] * 3
        + [("个人账户", 2024)] * 3 + [("登记证", 2024)] * 2 + [("社保卡/证/手册", 2024)] * 3
        + [("统计月/季报", 2024)] * 2 + [("稽核/监察", 2024)] * 2 + [("生育待遇核定", 2024)] * 2
        + [("生育支付明细", 2024)] * 1 + [("统计年报", 2023), ("参保人员登记", 2023), ("稽核/监察", 2023),
                                          ("个人账户", 2023)])
# Rows whose date is typed as text in another accepted spelling rather than a date cell.
TEXT_DATES = {4: "{y}/{m}/{d}", 9: "{y}年{m}月{d}日", 15: "{y}{m:02d}{d:02d}"}


def id_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 as the standard states it: weights 2^(18-i) mod 11, check = (12 - S mod 11) mod 11."""
    total = sum(int(digit) * pow(2, 17 - i, 11) for i, digit in enumerate(first17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def make_id(rng: random.Random, region: str, sex: int) -> str:
    born = date(rng.randint(1958, 1999), rng.randint(1, 12), rng.randint(1, 28))
    seq = rng.randrange(0, 500) * 2 + sex          # odd for men, even for women
    first17 = f"{region}{born:%Y%m%d}{seq:03d}"
    return first17 + id_check_char(first17)


def sample_rows() -> list[dict]:
    rng = random.Random(20240601)
    items: dict[tuple, int] = {}
    rows = []
    people = iter(PEOPLE * 2)
    for index, (stage, year) in enumerate(PLAN, 1):
        klass, retention, insurance, responsible, pattern, personal = CATEGORIES[stage]
        group = (klass, year, retention)
        items[group] = items.get(group, 0) + 1
        volume, item = 1 + (items[group] - 1) // 4, 1 + (items[group] - 1) % 4   # 4 items per volume
        number = f"{FONDS}-ZY·{klass}·{year}·{retention}-{volume:04d}-{item:03d}"
        day = date(year, rng.randint(1, 12), rng.randint(1, 28))
        if stage == "统计年报":
            day = date(year, 12, 31)
        employer = EMPLOYERS[(index * 3) % len(EMPLOYERS)]
        name = id_no = ""
        if personal:
            name, sex, region = next(people)
            id_no = make_id(rng, region, sex)
        title = pattern.format(employer=employer, name=name, year=year, month=day.month,
                               quarter=(day.month - 1) // 3 + 1)
        shown_date = TEXT_DATES[index].format(y=day.year, m=day.month, d=day.day) if index in TEXT_DATES else day
        rows.append({
            "序号": index, "档号": number, "题名": title, "责任者": responsible, "日期": shown_date,
            "页数": rng.randint(2, 12), "保管期限": retention, "密级": "内部" if personal else "公开",
            "姓名": name, "身份证号": id_no, "单位名称": employer if (personal or "{employer}" in pattern) else "",
            "险种": insurance, "业务环节": stage, "盒号": f"{year}-{retention}-{volume:03d}",
            "备注": "原件有涂改，已核实" if index == 7 else "",
        })
    return rows


def bad_rows() -> list[dict]:
    """One row per kind of problem (row numbers as the spreadsheet shows them are 3, 4, …)."""
    rng = random.Random(7)
    person_id = make_id(rng, "110105", 1)
    wrong_check = person_id[:17] + ("0" if person_id[17] != "0" else "1")

    def row(number, **changes):
        base = {"序号": 0, "档号": number, "题名": "张伟参保人员登记表", "责任者": AGENCY, "日期": "2024-06-01",
                "页数": 4, "保管期限": "D100", "密级": "内部", "姓名": "张伟", "身份证号": person_id,
                "单位名称": EMPLOYERS[0], "险种": "企业职工基本养老保险", "业务环节": "参保人员登记",
                "盒号": "2024-D100-009", "备注": ""}
        base.update(changes)
        return base

    n = "X001-ZY·DJ·2024·D100-0009-{:03d}".format
    already = sample_rows()[3]["档号"]                      # a dossier of the sample catalog
    rows = [
        row(n(1), 备注="正确的行"),
        row("X001-ZY·DJ·24·D100-0009-002", 备注="档号年度只有两位"),
        row(n(1), 备注="档号与第 3 行重复"),
        row(already, 备注="档号已在示例目录中（先导入示例目录时）"),
        row(n(5), 保管期限="D20", 备注="保管期限代码不存在"),
        row(n(6), 保管期限="D30", 备注="保管期限与档号不一致"),
        row(n(7), 页数="0", 备注="页数不是正整数"),
        row(n(8), 身份证号=wrong_check, 备注="身份证号校验码错误"),
        row(n(9), 日期="2024-13-45", 备注="日期无法识别"),
        row(n(10), 日期="2023-05-06", 备注="日期年份与档号年度不一致"),
        row(n(11), 题名="", 备注="缺少题名"),
        row("", 备注="缺少档号"),
        row("X002-ZY·DJ·2024·D100-0009-013", 备注="全宗号不是本站的全宗"),
        row("X001－ZY・DJ・2024・D100－0009－014", 备注="形似的点和全角连字符：规范化后有效"),
    ]
    for index, item in enumerate(rows, 1):
        item["序号"] = index
    return rows


def csv_bytes(rows: list[dict]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([TITLE_ROW])
    writer.writerow(HEADERS)
    for row in rows:
        writer.writerow([row[h].isoformat() if isinstance(row[h], date) else row[h] for h in HEADERS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(rows: list[dict]) -> bytes:
    import openpyxl
    from openpyxl.styles import Font

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "目录"
    sheet.append([TITLE_ROW])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(HEADERS)
    for row in rows:
        sheet.append([row[h] for h in HEADERS])
        cell = sheet.cell(row=sheet.max_row, column=HEADERS.index("日期") + 1)
        if isinstance(row["日期"], date):
            cell.number_format = "yyyy-mm-dd"
        sheet.cell(row=sheet.max_row, column=HEADERS.index("身份证号") + 1).number_format = "@"
    for column, width in zip("ABCDEFGHIJKLMNO", (6, 32, 36, 26, 12, 6, 9, 6, 8, 21, 30, 22, 16, 16, 20)):
        sheet.column_dimensions[column].width = width
    workbook.properties.creator = "ScanStation sample generator"
    raw = io.BytesIO()
    workbook.save(raw)
    return _reproducible_zip(raw.getvalue())


def _reproducible_zip(data: bytes) -> bytes:
    """Same bytes on every run: fixed entry times and a fixed 'modified' date in docProps/core.xml."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>2024-01-01T00:00:00Z", content)
            entry = zipfile.ZipInfo(info.filename, FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, content)
    return out.getvalue()


def main() -> None:
    rows = sample_rows()
    (HERE / "sample-catalog.xlsx").write_bytes(xlsx_bytes(rows))
    (HERE / "sample-catalog.csv").write_bytes(csv_bytes(rows))
    (HERE / "bad-catalog.csv").write_bytes(csv_bytes(bad_rows()))
    print(f"{len(rows)} sample dossiers, {len(bad_rows())} rows in bad-catalog.csv written to {HERE.name}/")


if __name__ == "__main__":
    main()
