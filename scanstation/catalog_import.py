"""Import of a department's 目录 (dossier list) from Excel (.xlsx) or CSV.

All or nothing: every row is checked first and every problem is reported with the row number
the spreadsheet shows, the column as headed in the file and the reason; only a file without
a single problem is written, in one transaction with one audit entry (file name, counts,
SHA-256 and SM3 of the file). Columns are found by their Chinese header (档号, 题名, …) or an
English alias, wherever the header row is among the first rows (a title row above is common).

Three steps, usable on their own: ``read_rows(path)`` streams the rows, ``validate(rows, …)``
checks them, ``import_catalog(session, path)`` does both and writes.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from scanstation import dossier_number, id_number, retention, settings
from scanstation.errors import CheckFailed, InvalidInput, Refused
from scanstation.home import now_iso
from scanstation.i18n import tr
from scanstation.storage.files import digests

HEADER_SEARCH_ROWS = 30
MAX_PAGES = dossier_number.MAX_SEQ
_FULLWIDTH: dict[int, int | str] = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = " "


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    aliases: tuple[str, ...] = ()


# The 目录 columns (R18). The first Chinese name is the one shown when a column is missing.
COLUMNS: tuple[Column, ...] = (
    Column("number", "档号", "number", ("dossier number", "archival number", "archival code", "reference code")),
    Column("title", "题名", "title", ("文件题名", "案卷题名")),
    Column("responsible", "责任者", "responsible", ("author", "creator")),
    Column("date", "日期", "date", ("文件日期", "形成日期", "成文日期")),
    Column("pages", "页数", "pages", ("page count", "declared pages")),
    Column("retention", "保管期限", "retention", ("retention period",)),
    Column("security", "密级", "security", ("security level", "classification")),
    Column("name", "姓名", "name", ("person name", "参保人", "参保人姓名", "参保人员姓名")),
    Column("id_number", "身份证号", "id_number", ("身份证号码", "公民身份号码", "证件号码", "id card", "id no")),
    Column("employer", "单位名称", "employer", ("参保单位", "单位", "employer name")),
    Column("insurance_type", "险种", "insurance_type", ("insurance",)),
    Column("business_stage", "业务环节", "business_stage", ("业务类别", "business category")),
    Column("box", "盒号", "box", ("box no", "box number")),
    Column("remarks", "备注", "remarks", ("remark", "notes", "note")),
    Column("volume", "案卷号", "volume", ("volume no", "volume number")),
    Column("item", "件号", "item", ("item no", "item number")),
    Column("fonds", "全宗号", "fonds", ("fonds code",)),
    Column("year", "年度", "year", ()),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
MANDATORY = ("number", "title")


def header_key(text) -> str:
    """A header cell reduced for matching: half-width, no spaces/underscores/dashes, lower case,
    without a mandatory mark (*) or a trailing parenthesis such as "页数（页）"."""
    value = "" if text is None else str(text)
    value = re.sub(r"[\s_\-*＊]+", "", value.translate(_FULLWIDTH)).lower()
    return re.sub(r"[(（][^()（）]*[)）]$", "", value)


_ALIASES: dict[str, str] = {}
for _column in COLUMNS:
    for _name in (_column.zh, _column.en, _column.key) + _column.aliases:
        _ALIASES[header_key(_name)] = _column.key


# -- reading ------------------------------------------------------------------------------
@dataclass
class SourceRow:
    line: int  # the row number the spreadsheet shows
    values: dict  # column key -> raw cell value (str, int, float, datetime or None)


@dataclass
class ImportProblem:
    """One reason the file cannot be imported: where (row, column as headed in the file) and why."""

    row: int
    column: str
    en: str
    zh: str
    key: str = ""

    def __str__(self) -> str:
        return tr(
            "Row {row}, {column}: {why}",
            "第 {row} 行，{column}：{why}",
            row=self.row,
            column=self.column,
            why=tr(self.en, self.zh),
        )

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "key": self.key, "en": self.en, "zh": self.zh}


class CatalogImportRejected(CheckFailed):
    """The file has problems; nothing was imported. ``problems`` lists every one of them."""

    def __init__(self, file_name: str, problems: list[ImportProblem]):
        rows = len({p.row for p in problems})
        super().__init__(
            "The catalog {file} was not imported: {n} problem(s) in {rows} row(s). Nothing was imported; "
            "correct the rows listed and import the file again.",
            "目录 {file} 未导入：{rows} 行中共有 {n} 个问题。未导入任何内容；请更正所列各行后重新导入。",
            file=file_name,
            n=len(problems),
            rows=rows,
        )
        self.file = file_name
        self.problems = problems


class RowReader:
    """The data rows of a 目录 file, after its header row. Iterate once; close when done."""

    def __init__(self, name: str, kind: str):
        self.name = name
        self.kind = kind  # "xlsx" | "csv"
        self.sheet = ""
        self.encoding = ""
        self.header_row = 0
        self.headers: dict[str, str] = {}  # column key -> header text as in the file
        self.ignored: list[str] = []  # headers that are not 目录 columns
        self.problems: list[ImportProblem] = []  # problems of the header itself
        self._rows = iter(())
        self._closer = None
        self._indexes: list[tuple[int, str]] = []

    def header_of(self, key: str) -> str:
        return self.headers.get(key) or COLUMN_BY_KEY[key].zh

    def _use_header(self, line: int, cells) -> None:
        self.header_row = line
        for index, cell in enumerate(cells):
            key = _ALIASES.get(header_key(cell))
            text = "" if cell is None else str(cell).strip()
            if key is None:
                if text:
                    self.ignored.append(text)
                continue
            if key in self.headers:
                self.problems.append(
                    ImportProblem(
                        line,
                        text,
                        f"the column {COLUMN_BY_KEY[key].en} appears twice ('{self.headers[key]}' and "
                        f"'{text}'); keep one",
                        f"“{COLUMN_BY_KEY[key].zh}”列出现了两次（“{self.headers[key]}”与“{text}”）；请只保留一列",
                        key,
                    )
                )
                continue
            self.headers[key] = text
            self._indexes.append((index, key))
        for key in MANDATORY:
            if key not in self.headers:
                column = COLUMN_BY_KEY[key]
                self.problems.append(
                    ImportProblem(
                        line, column.zh, f"there is no {column.en} ({column.zh}) column", f"缺少“{column.zh}”列", key
                    )
                )

    def _data(self, numbered_rows):
        indexes = self._indexes
        for line, cells in numbered_rows:
            width = len(cells)
            values = {key: cells[i] for i, key in indexes if i < width}
            if any(v is not None and (not isinstance(v, str) or v.strip()) for v in values.values()):
                yield SourceRow(line, values)
        self.close()

    def __iter__(self):
        return self

    def __next__(self) -> SourceRow:
        try:
            return next(self._rows)
        except StopIteration:
            raise
        except Exception as exc:  # a damaged sheet or record part-way through the file
            self.close()
            raise InvalidInput(
                "{file} cannot be read to the end ({error}). Open it in Excel or WPS, save it "
                "again and import it again.",
                "无法完整读取 {file}（{error}）。请用 Excel 或 WPS 打开、重新保存后再导入。",
                file=self.name,
                error=str(exc) or type(exc).__name__,
            ) from exc

    def close(self) -> None:
        if self._closer is not None:
            closer, self._closer = self._closer, None
            closer()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_rows(path) -> RowReader:
    """The rows of an .xlsx or .csv 目录, streamed; the header row is found and mapped first."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(
            "Cannot read {file}: {error}.", "无法读取 {file}：{error}。", file=str(path), error=exc.strerror or str(exc)
        ) from exc
    return rows_from_bytes(path.name, data)


def rows_from_bytes(name: str, data: bytes) -> RowReader:
    suffix = Path(name).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_rows(name, data)
    if suffix in (".csv", ".txt", ".tsv"):
        return _csv_rows(name, data)
    if suffix in (".xls", ".et", ".wps"):
        raise InvalidInput(
            "{file} is an old-format spreadsheet; save it as .xlsx (Excel workbook) or .csv and import that.",
            "{file} 是旧格式的电子表格；请另存为 .xlsx（Excel 工作簿）或 .csv 后再导入。",
            file=name,
        )
    raise InvalidInput(
        "{file} is neither an .xlsx nor a .csv file.", "{file} 既不是 .xlsx 也不是 .csv 文件。", file=name
    )


def _not_found(name: str) -> InvalidInput:
    return InvalidInput(
        "No header row with a 档号 column was found in the first {n} rows of {file}. "
        "Put the column headers (档号, 题名, …) in one row above the data.",
        "在 {file} 的前 {n} 行中没有找到含“档号”列的表头行。请在数据上方用一行写出列名（档号、题名……）。",
        file=name,
        n=HEADER_SEARCH_ROWS,
    )


def _find_header(reader: RowReader, numbered_rows) -> bool:
    for line, cells in numbered_rows:
        if any(_ALIASES.get(header_key(c)) == "number" for c in cells if c is not None):
            reader._use_header(line, cells)
            reader._rows = reader._data(numbered_rows)
            return True
        if line >= HEADER_SEARCH_ROWS:
            break
    return False


def _xlsx_rows(name: str, data: bytes) -> RowReader:
    import openpyxl

    reader = RowReader(name, "xlsx")
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for damaged or foreign files
        raise InvalidInput(
            "{file} cannot be read as an Excel workbook ({error}). Open it in Excel or WPS and save it again as .xlsx.",
            "无法将 {file} 作为 Excel 工作簿读取（{error}）。请用 Excel 或 WPS 打开后重新另存为 .xlsx。",
            file=name,
            error=str(exc) or type(exc).__name__,
        ) from exc
    reader._closer = workbook.close
    sheets = [workbook.active] + [ws for ws in workbook.worksheets if ws is not workbook.active]
    for sheet in sheets:
        if sheet is None or not hasattr(sheet, "iter_rows"):
            continue
        sheet.reset_dimensions()  # some programs write a wrong size; read what is there
        numbered = enumerate(sheet.iter_rows(min_row=1, values_only=True), 1)
        if _find_header(reader, numbered):
            reader.sheet = sheet.title
            return reader
    reader.close()
    raise _not_found(name)


def _decode(name: str, data: bytes) -> tuple[str, str]:
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError:
                break
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise InvalidInput(
        '{file} is neither UTF-8 nor GB18030 (GBK) text. Save it from Excel or WPS as "CSV UTF-8" and import it again.',
        "{file} 既不是 UTF-8 也不是 GB18030（GBK）编码的文本。请在 Excel 或 WPS 中另存为“CSV UTF-8”后重新导入。",
        file=name,
    )


def _csv_rows(name: str, data: bytes) -> RowReader:
    reader = RowReader(name, "csv")
    text, reader.encoding = _decode(name, data)
    head = text[:65536].splitlines()[:HEADER_SEARCH_ROWS]
    delimiter = max((",", "\t", ";"), key=lambda d: sum(line.count(d) for line in head))
    try:
        records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        numbered = enumerate(records, 1)
        if _find_header(reader, numbered):
            return reader
    except csv.Error as exc:
        raise InvalidInput(
            "{file} is not a readable CSV file ({error}).",
            "{file} 不是可读取的 CSV 文件（{error}）。",
            file=name,
            error=str(exc),
        ) from exc
    raise _not_found(name)


# -- checking -----------------------------------------------------------------------------
_DATE_PATTERNS = (
    re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
    re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?"),
)
_PAGES_RE = re.compile(r"\+?([0-9]+)(?:\.0+)?\s*页?")
_INT_RE = re.compile(r"([0-9]+)\s*年?")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def parse_date(value) -> date:
    """A 目录 date: Excel date cells, 2024-06-01, 2024/6/1, 20240601, 2024年6月1日. Raises ValueError."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if float(value).is_integer() and 10000101 <= value <= 99991231:
            text = str(int(value))  # 20240601 typed as a number
        elif 1 <= value < 2958466:  # a date cell whose date format was lost: Excel's day count
            from openpyxl.utils.datetime import from_excel

            return from_excel(value).date()
        else:
            raise ValueError(value)
    else:
        text = str(value).translate(_FULLWIDTH).strip()
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    raise ValueError(text)


def _pages(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    match = _PAGES_RE.fullmatch(str(value).translate(_FULLWIDTH).strip())
    return int(match.group(1)) if match else None


def _same_number(a: str, b: str) -> bool:
    """Equal as numbers when both are digits (Excel drops leading zeros), else as text."""
    return int(a) == int(b) if a.isdigit() and b.isdigit() else a == b


@dataclass
class Validation:
    records: list = field(default_factory=list)  # tuples in INSERT_COLUMNS order, without timestamps
    problems: list = field(default_factory=list)  # ImportProblem, by row
    rows: int = 0
    years: Counter = field(default_factory=Counter)
    retentions: Counter = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return not self.problems


INSERT_COLUMNS = (
    "number",
    "fonds_code",
    "year",
    "category",
    "insurance_type",
    "business_stage",
    "retention",
    "title",
    "responsible",
    "date",
    "declared_pages",
    "security_level",
    "volume_no",
    "item_no",
    "box_no",
    "person_name",
    "person_id_number",
    "employer",
    "remarks",
    "status",
    "created_at",
    "updated_at",
)
INSERT_SQL = f"INSERT INTO dossiers ({', '.join(INSERT_COLUMNS)}) VALUES ({', '.join('?' for _ in INSERT_COLUMNS)})"


def _protect_personal_fields(home, records: list[tuple]) -> list[tuple]:
    """R40: with protection on, personal fields are stored encrypted (the key is unlocked at login)."""
    from scanstation.custody import protection

    if not protection.is_enabled(home):
        return records
    where = [INSERT_COLUMNS.index(f) for f in protection.PERSONAL_FIELDS]
    out = []
    for record in records:
        values = list(record)
        for i in where:
            values[i] = protection.store_value(home, INSERT_COLUMNS[i], values[i])
        out.append(tuple(values))
    return out


def validate(
    rows, catalog=None, schema: dossier_number.Schema | None = None, *, fonds: str | None = None
) -> Validation:
    """Check every row; returns the records to insert and every problem found.

    ``rows``: a RowReader (or any iterable of SourceRow). ``catalog``: when given, numbers already
    in it are problems (R12). ``fonds``: the station's 全宗号; a 档号 of another fonds is a problem.
    """
    schema = schema or dossier_number.default_schema()
    id_rule = settings.id_mask_rule(catalog) if catalog is not None else None  # R40: even in the problem list
    result = Validation()
    problems = result.problems
    if isinstance(rows, RowReader):
        problems.extend(rows.problems)
        header_of = rows.header_of
    else:
        header_of = lambda key: COLUMN_BY_KEY[key].zh  # noqa: E731
    col = {c.key: header_of(c.key) for c in COLUMNS}
    has_volume = any(f.key == "volume" for f in schema.fields)
    has_item = any(f.key == "item" for f in schema.fields)
    seen: dict[str, int] = {}
    lines_of: dict[str, int] = {}
    analyse = dossier_number._analyse

    def add(line: int, key: str, en: str, zh: str) -> None:
        problems.append(ImportProblem(line, col[key], en, zh, key))

    for source in rows:
        result.rows += 1
        line, values = source.line, source.values
        get = values.get
        bad = len(problems)

        # 档号 (R13) and its consistency with the station and the file
        raw_number = _text(get("number"))
        number = None
        if not raw_number:
            add(
                line, "number", "the dossier number is empty; every dossier needs one", "档号为空；每个案卷都必须有档号"
            )
        else:
            number, reasons = analyse(raw_number, schema, False)
            if reasons:
                add(
                    line,
                    "number",
                    f"'{raw_number}' is not a valid dossier number: " + "; ".join(p.en for p in reasons),
                    f"“{raw_number}”不是有效的档号：" + "；".join(p.zh for p in reasons),
                )
            elif number is not None:  # no reasons: a valid number
                text = number.text
                first = seen.get(text)
                if first is not None:
                    add(
                        line,
                        "number",
                        f"{text} appears twice in the file: also in row {first}",
                        f"{text} 在文件中重复：第 {first} 行也是该档号",
                    )
                else:
                    seen[text] = line
                if fonds and number.fonds != fonds:
                    add(
                        line,
                        "number",
                        f"{text} belongs to fonds {number.fonds}, but this station keeps fonds {fonds}",
                        f"{text} 属于全宗 {number.fonds}，而本站的全宗号是 {fonds}",
                    )

        title = _text(get("title"))
        if not title:
            add(line, "title", "the title is empty; every dossier needs one", "题名为空；每个案卷都必须有题名")

        retention_code = number.retention if number else ""
        raw = _text(get("retention"))
        if raw:
            try:
                code = retention.parse_code(raw)
            except InvalidInput:
                add(
                    line,
                    "retention",
                    f"'{raw}' is not a retention period; use {retention.CODE_LIST}",
                    f"“{raw}”不是保管期限；应为 {retention.CODE_LIST_ZH}",
                )
            else:
                if number and code != number.retention:
                    add(
                        line,
                        "retention",
                        f"{code} differs from the retention {number.retention} in the dossier number",
                        f"{code} 与档号中的保管期限 {number.retention} 不一致",
                    )

        pages = None
        raw_pages = get("pages")
        if _text(raw_pages):
            pages = _pages(raw_pages)
            if pages is None or pages < 1:
                add(
                    line,
                    "pages",
                    f"the page count '{_text(raw_pages)}' is not a positive whole number",
                    f"页数“{_text(raw_pages)}”不是正整数",
                )
                pages = None
            elif pages > MAX_PAGES:
                add(
                    line,
                    "pages",
                    f"{pages} pages cannot be numbered {{档号}}-0001…{MAX_PAGES}; split the dossier",
                    f"{pages} 页超出页号范围（0001–{MAX_PAGES}）；请拆分案卷",
                )
                pages = None

        iso_date = ""
        raw_date = get("date")
        if _text(raw_date):
            try:
                day = parse_date(raw_date)
            except (ValueError, OverflowError):
                add(
                    line,
                    "date",
                    f"the date '{_text(raw_date)}' cannot be read; write it as 2024-06-01, 2024/6/1, "
                    f"20240601 or 2024年6月1日",
                    f"无法识别日期“{_text(raw_date)}”；请写成 2024-06-01、2024/6/1、20240601 或 2024年6月1日",
                )
            else:
                iso_date = day.isoformat()
                if number and day.year != number.year:
                    add(
                        line,
                        "date",
                        f"the date {iso_date} is in {day.year}, but the dossier number says {number.year}",
                        f"日期 {iso_date} 属于 {day.year} 年，而档号中的年度是 {number.year}",
                    )

        raw_id = get("id_number")
        person_id = ""
        if _text(raw_id):
            if isinstance(raw_id, (int, float)):
                add(
                    line,
                    "id_number",
                    "the ID number is stored as a number, which keeps only 15 digits; format the "
                    "column as text and type the number again",
                    "身份证号以数字格式保存，只保留 15 位有效数字；请将该列设为文本格式后重新录入",
                )
            else:
                why = id_number.problem(raw_id)
                if why:
                    add(
                        line,
                        "id_number",
                        f"the ID number {id_number.mask(raw_id, id_rule)} is not valid: {why[0]}",
                        f"身份证号 {id_number.mask(raw_id, id_rule)} 无效：{why[1]}",
                    )
                else:
                    person_id = id_number.normalise(raw_id)

        volume, item = _text(get("volume")), _text(get("item"))
        if number:
            for key, given in (("fonds", _text(get("fonds"))), ("year", _text(get("year")))):
                expected = str(number.fonds if key == "fonds" else number.year)
                if key == "year" and given:
                    match = _INT_RE.fullmatch(given.translate(_FULLWIDTH))
                    given = match.group(1) if match else given
                if given and given != expected:
                    name = COLUMN_BY_KEY[key]
                    add(
                        line,
                        key,
                        f"{given} differs from the {name.en} {expected} in the dossier number",
                        f"{given} 与档号中的{name.zh} {expected} 不一致",
                    )
            for key, given, present in (("volume", volume, has_volume), ("item", item, has_item)):
                if present and given and not _same_number(given, number.fields[key]):
                    name = COLUMN_BY_KEY[key]
                    add(
                        line,
                        key,
                        f"{given} differs from the {name.en} {number.fields[key]} in the dossier number",
                        f"{given} 与档号中的{name.zh} {number.fields[key]} 不一致",
                    )
            if has_volume:
                volume = number.fields["volume"]
            if has_item:
                item = number.fields["item"]

        if len(problems) != bad or number is None:
            continue
        lines_of[number.text] = line
        result.years[number.year] += 1
        result.retentions[retention_code] += 1
        result.records.append(
            (
                number.text,
                number.fonds,
                number.year,
                number.category_group,
                _text(get("insurance_type")),
                _text(get("business_stage")),
                retention_code,
                title,
                _text(get("responsible")),
                iso_date,
                pages,
                _text(get("security")),
                volume,
                item,
                _text(get("box")),
                _text(get("name")),
                person_id,
                _text(get("employer")),
                _text(get("remarks")),
            )
        )

    if catalog is not None and lines_of:
        for text in existing_numbers(catalog, list(lines_of)):
            add(
                lines_of[text],
                "number",
                f"{text} is already in the catalog; a dossier number is imported only once",
                f"{text} 已在目录中；同一档号只能导入一次",
            )
    if problems:
        order = {c.key: i for i, c in enumerate(COLUMNS)}
        problems.sort(key=lambda p: (p.row, order.get(p.key, len(order))))
    return result


def existing_numbers(catalog, numbers: list[str]) -> set[str]:
    """Those of ``numbers`` that are already in the catalog."""
    found: set[str] = set()
    chunk = 900  # below SQLite's default limit of host parameters
    for start in range(0, len(numbers), chunk):
        part = numbers[start : start + chunk]
        rows = catalog.conn.execute(
            f"SELECT number FROM dossiers WHERE number IN ({','.join('?' * len(part))})", part
        ).fetchall()
        found.update(r[0] for r in rows)
    return found


# -- importing ----------------------------------------------------------------------------
@dataclass
class ImportResult:
    count: int
    file: str
    sha256: str
    sm3: str
    bytes: int
    sheet: str
    header_row: int
    columns: dict  # column key -> header text as in the file
    ignored_columns: list
    years: dict
    retentions: dict
    seconds: float

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def import_catalog(session, path, schema: dossier_number.Schema | None = None) -> ImportResult:
    """Check the whole file, then insert every dossier in one audited transaction (status 'cataloged').

    Raises CatalogImportRejected listing every problem (nothing written), InvalidInput when the
    file cannot be read, Refused when the user's role may not import.
    """
    started = time.perf_counter()
    session.require("catalog.import")
    home = session.home
    path = Path(path)
    schema = schema or dossier_number.schema_for_home(home)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(
            "Cannot read {file}: {error}.", "无法读取 {file}：{error}。", file=str(path), error=exc.strerror or str(exc)
        ) from exc
    sha256, sm3 = digests(data)
    with rows_from_bytes(path.name, data) as reader:
        checked = validate(reader, home.catalog, schema, fonds=home.fonds)
    if checked.problems:
        raise CatalogImportRejected(path.name, checked.problems)
    if not checked.records:
        raise InvalidInput(
            "{file} has a header row but no dossier rows; nothing was imported.",
            "{file} 只有表头，没有案卷行；未导入任何内容。",
            file=path.name,
        )

    stamp = now_iso()
    tail = ("cataloged", stamp, stamp)
    records = _protect_personal_fields(home, checked.records)
    try:
        with session.change("catalog.import", "catalog.import", "catalog", path.name) as change:
            first_id = (change.conn.execute("SELECT max(id) FROM dossiers").fetchone()[0] or 0) + 1
            change.conn.executemany(INSERT_SQL, (record + tail for record in records))
            from scanstation.search import index_dossier  # searchable by 档号, 题名, 姓名, 单位, ID number

            for (dossier_id,) in change.conn.execute("SELECT id FROM dossiers WHERE id >= ?", (first_id,)).fetchall():
                index_dossier(change.conn, dossier_id)
            change.after = {
                "file": path.name,
                "bytes": len(data),
                "sha256": sha256,
                "sm3": sm3,
                "dossiers": len(records),
                "rows": checked.rows,
                "sheet": reader.sheet,
                "header_row": reader.header_row,
                "first": records[0][0],
                "last": records[-1][0],
                "years": {str(k): v for k, v in sorted(checked.years.items())},
                "retention": dict(sorted(checked.retentions.items())),
            }
    except Refused as refused:
        if not isinstance(refused.__cause__, sqlite3.IntegrityError):
            raise
        # A number was added between the check and the (rolled back) transaction: say which.
        with rows_from_bytes(path.name, data) as again:
            recheck = validate(again, home.catalog, schema, fonds=home.fonds)
        raise CatalogImportRejected(
            path.name,
            recheck.problems
            or [
                ImportProblem(
                    reader.header_row,
                    reader.header_of("number"),
                    "a dossier number is already in the catalog",
                    "有档号已在目录中",
                    "number",
                )
            ],
        ) from None
    return ImportResult(
        count=len(records),
        file=path.name,
        sha256=sha256,
        sm3=sm3,
        bytes=len(data),
        sheet=reader.sheet,
        header_row=reader.header_row,
        columns=dict(reader.headers),
        ignored_columns=list(reader.ignored),
        years=dict(checked.years),
        retentions=dict(checked.retentions),
        seconds=round(time.perf_counter() - started, 3),
    )


__all__ = [
    "COLUMNS",
    "CatalogImportRejected",
    "ImportProblem",
    "ImportResult",
    "RowReader",
    "SourceRow",
    "Validation",
    "header_key",
    "import_catalog",
    "parse_date",
    "read_rows",
    "rows_from_bytes",
    "validate",
]
