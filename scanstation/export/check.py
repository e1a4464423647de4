"""Checks of exported copies and packages, for ``scanstation export verify`` and the four-property
check of a transfer package that carries derived copies beside the images.

- PDF: opens (pikepdf/qpdf), is not encrypted, every page has a text layer (a text-showing operator
  in its content), the page count equals 页数 (given, or the document's /DeclaredPages entry); a
  document that claims PDF/A says which part and whether it has its output intent.
- OFD: the parts resolve, every page has its image and a text layer, pages equal 页数 (CustomData).
- EEP: ``scanstation.export.eep.verify`` (signature, digests, pages against 页数).

Each result: {"file", "kind", "ok", "pages", "declared_pages", "problems": [(en, zh)], ...}.
"""

from __future__ import annotations

from pathlib import Path

from scanstation.errors import InvalidInput

KINDS = {".pdf": "pdf", ".ofd": "ofd", ".eep": "eep"}
_TEXT_OPERATORS = {"Tj", "TJ", "'", '"'}


def _declared(value) -> int | None:
    text = str(value if value is not None else "").strip()
    return int(text) if text.isdigit() else None


def _page_count_problem(pages: int, declared: int | None) -> list[tuple[str, str]]:
    if declared is not None and declared != pages:
        return [(f"the copy has {pages} pages but 页数 is {declared}", f"副本有 {pages} 页，但页数为 {declared}")]
    return []


def check_pdf(path, declared: int | None = None) -> dict:
    import pikepdf

    path = Path(path)
    try:
        pdf = pikepdf.open(path)
    except pikepdf.PasswordError as exc:
        raise InvalidInput(
            "{f} is encrypted; an archive copy must not be (R31).", "{f} 已加密；档案副本不得加密（R31）。", f=str(path)
        ) from exc
    except (pikepdf.PdfError, OSError) as exc:
        raise InvalidInput(
            "{f} is not a readable PDF ({e}).", "{f} 不是可读取的 PDF（{e}）。", f=str(path), e=str(exc)
        ) from exc
    problems: list[tuple[str, str]] = []
    with pdf:
        if pdf.is_encrypted:
            problems.append(("the PDF is encrypted (R31)", "PDF 已加密（R31）"))
        if declared is None:
            declared = _declared(pdf.docinfo.get("/DeclaredPages"))
        without_text = []
        for index, page in enumerate(pdf.pages, start=1):
            try:
                ops = {str(op) for _, op in pikepdf.parse_content_stream(page)}
            except pikepdf.PdfError:
                ops = set()
            if not ops & _TEXT_OPERATORS:
                without_text.append(index)
        if without_text:
            shown = ", ".join(str(n) for n in without_text[:20])
            problems.append((f"pages without a text layer: {shown}", f"无文本层的页：{shown}"))
        problems += _page_count_problem(len(pdf.pages), declared)
        meta = pdf.open_metadata()
        part = meta.get("pdfaid:part")
        pdfa = f"{part}{(meta.get('pdfaid:conformance') or '').lower()}" if part else ""
        if pdfa and "/OutputIntents" not in pdf.Root:
            problems.append(("the PDF claims PDF/A but has no output intent", "PDF 声明为 PDF/A，但缺少输出意图"))
        number = str(pdf.docinfo.get("/ArchivalCode", "") or "")
        return {
            "file": str(path),
            "kind": "pdf",
            "ok": not problems,
            "pages": len(pdf.pages),
            "declared_pages": declared,
            "pages_without_text": without_text,
            "pdfa": pdfa,
            "number": number,
            "problems": problems,
        }


def check_ofd(path, declared: int | None = None) -> dict:
    from scanstation.export import ofd

    data = ofd.read(path)
    problems: list[tuple[str, str]] = []
    if declared is None:
        declared = _declared(data["metadata"].get("页数"))
    without_text = [i for i, p in enumerate(data["pages"], start=1) if not p["text"].strip()]
    without_image = [i for i, p in enumerate(data["pages"], start=1) if not p["images"] or p["missing_images"]]
    if without_text:
        shown = ", ".join(str(n) for n in without_text[:20])
        problems.append((f"pages without a text layer: {shown}", f"无文本层的页：{shown}"))
    if without_image:
        shown = ", ".join(str(n) for n in without_image[:20])
        problems.append((f"pages without their image: {shown}", f"缺少图像的页：{shown}"))
    if not data["pages"]:
        problems.append(("the OFD has no page", "OFD 没有任何页"))
    problems += _page_count_problem(len(data["pages"]), declared)
    return {
        "file": str(path),
        "kind": "ofd",
        "ok": not problems,
        "pages": len(data["pages"]),
        "declared_pages": declared,
        "pages_without_text": without_text,
        "number": data["metadata"].get("档号", ""),
        "problems": problems,
    }


def check_eep(path, declared: int | None = None, trust=None) -> dict:
    from scanstation.export import eep

    result = eep.verify(path, trust=trust)
    problems = list(result["problems"])
    if declared is not None and result.get("declared_pages") != declared:
        problems += _page_count_problem(result["pages"], declared)
    return dict(result, kind="eep", ok=not problems, problems=problems)


def check_file(path, declared: int | None = None, trust=None, catalog=None) -> dict:
    """Check one exported file. 页数: ``declared`` when given, else the catalog's for the 档号 the file
    names (when a catalog is given and holds it), else what the file itself says."""
    kind = KINDS.get(Path(path).suffix.lower())
    if kind is None:
        raise InvalidInput("{f}: give a .pdf, .ofd or .eep file.", "{f}：请给出 .pdf、.ofd 或 .eep 文件。", f=str(path))
    if not Path(path).is_file():
        raise InvalidInput("{f} does not exist.", "{f} 不存在。", f=str(path))
    check = {"pdf": check_pdf, "ofd": check_ofd}.get(kind)
    result = check(path, declared) if check else check_eep(path, declared, trust)
    if declared is None and catalog is not None and result.get("number"):
        row = catalog.one("SELECT declared_pages FROM dossiers WHERE number = ?", (result["number"],))
        if row and row["declared_pages"] is not None and row["declared_pages"] != result.get("declared_pages"):
            result["declared_pages"] = row["declared_pages"]
            result["problems"] = [p for p in result["problems"] if "页数为" not in p[1]]
            result["problems"] += _page_count_problem(result["pages"], row["declared_pages"])
            result["ok"] = not result["problems"]
    return result


__all__ = ["KINDS", "check_eep", "check_file", "check_ofd", "check_pdf"]
