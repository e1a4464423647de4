"""The field's rules R01–R40: what each says and where it comes from.

Code and tests name a rule by its number (a test that checks one is called ``test_rNN_…``);
``docs/rules.md`` is generated from this table and from the tests that name each rule
(``python tools/rules_doc.py``), so the two cannot drift apart. Evidence grades: Q = the text of
the standard was seen, S = local rules or other systems, R = recalled, D = design choice, NF = not found.
"""

from __future__ import annotations

from typing import NamedTuple

#: R02: no master below this resolution (dots per inch) -- devices, the image pipeline, scan profiles,
#: sealing and the package check all use this one figure.
MIN_DPI = 200


class Rule(NamedTuple):
    number: str
    source: str  # the standard or body of rules it comes from
    text: str


RULES: tuple[Rule, ...] = (
    Rule(
        "R01",
        "Capture and images (DA/T 31-2017 纸质档案数字化规范)",
        "colour by default; grey/bitonal only by explicit profile choice; never bitonal for pages with seals [Q].",
    ),
    Rule(
        "R02",
        "Capture and images (DA/T 31-2017 纸质档案数字化规范)",
        "never save a master below 200 dpi; default 300 dpi (needed for OCR); 600 dpi option [Q].",
    ),
    Rule(
        "R03",
        "Capture and images (DA/T 31-2017 纸质档案数字化规范)",
        "dpi written into the file header, X = Y; one resolution, colour mode and format per batch unless overridden with a logged reason [S/D].",
    ),
    Rule(
        "R04",
        "Capture and images (DA/T 31-2017 纸质档案数字化规范)",
        "masters are TIFF, JPEG or JPEG 2000, one format per batch; PDF/OFD only as derived copies [Q].",
    ),
    Rule(
        "R05",
        "Capture and images (DA/T 31-2017 纸质档案数字化规范)",
        "processing is recorded per image (deskew angle, crop box, rotation); keep it non-destructive where possible [D].",
    ),
    Rule(
        "R06",
        "Capture and images (DA/T 31-2017 纸质档案数字化规范)",
        "residual skew target ≤ 0.5°; QC fails > 3° [S/D].",
    ),
    Rule(
        "R07",
        "Capture and images (DA/T 31-2017 纸质档案数字化规范)",
        "auto-crop keeps ≥ 2 mm, default 3 mm, outside the page edge (36 px at 300 dpi) [Q].",
    ),
    Rule(
        "R08",
        "Capture and images (DA/T 31-2017 纸质档案数字化规范)",
        "cleaning may remove scanner borders and specks only; never binding holes, stains or marks of the original [Q].",
    ),
    Rule(
        "R09",
        "Capture and images (DA/T 31-2017 纸质档案数字化规范)",
        "images = declared page count (页数); blank, duplicate and missing pages flagged; a dossier cannot be completed with unresolved 漏扫/重扫/多扫 [Q].",
    ),
    Rule(
        "R10",
        "Capture and images (DA/T 31-2017 纸质档案数字化规范)",
        "a page that is deliberately not scanned carries a note with its page number [Q].",
    ),
    Rule(
        "R11",
        "档号, catalog, retention (DA/T 13-2022, DA/T 22-2015, 社会保险业务档案管理规定 2009 / GB/T 31599-2015)",
        "file names `{档号}-{NNNN}.{jpg|tif|jp2}`, contiguous from 0001 [Q+D].",
    ),
    Rule(
        "R12",
        "档号, catalog, retention (DA/T 13-2022, DA/T 22-2015, 社会保险业务档案管理规定 2009 / GB/T 31599-2015)",
        "a 档号 is unique in the catalog and immutable once transferred; corrections go through a logged procedure [Q].",
    ),
    Rule(
        "R13",
        "档号, catalog, retention (DA/T 13-2022, DA/T 22-2015, 社会保险业务档案管理规定 2009 / GB/T 31599-2015)",
        '档号 grammar: "-" between levels, "·" (U+00B7) inside the category group; look-alike dots (・ • ．) are refused or normalised. The schema is configurable. Default social-insurance schema, e.g. `X001-ZY·DJ·2024·D100-0001-001` = 全宗号-门类·类别·年度·保管期限-案卷号-件号 [Q separators, D widths].',
    ),
    Rule(
        "R14",
        "档号, catalog, retention (DA/T 13-2022, DA/T 22-2015, 社会保险业务档案管理规定 2009 / GB/T 31599-2015)",
        "retention codes: Y (永久), D100, D50, D30, D10 [Q].",
    ),
    Rule(
        "R15",
        "档号, catalog, retention (DA/T 13-2022, DA/T 22-2015, 社会保险业务档案管理规定 2009 / GB/T 31599-2015)",
        'retention comes from a configurable table keyed by business category, seeded with: 参保单位登记 Y; 参保人员登记/关系变动 D100; 个人账户 D100; 登记证 D10; 社保卡/证/手册 D50; 统计年报 Y; 月/季报 D10; 稽核/监察 D30; 生育待遇核定 D10; 生育支付明细 D30 [Q]; other categories marked "unverified" [NF].',
    ),
    Rule(
        "R16",
        "档号, catalog, retention (DA/T 13-2022, DA/T 22-2015, 社会保险业务档案管理规定 2009 / GB/T 31599-2015)",
        "expiry = 1 January of (formation year + 1 + N); Y never expires. Formed 2024-06-01 with D10 → expires 2035-01-01 [Q].",
    ),
    Rule(
        "R17",
        "档号, catalog, retention (DA/T 13-2022, DA/T 22-2015, 社会保险业务档案管理规定 2009 / GB/T 31599-2015)",
        "classification by 年度—业务环节 or 年度—险种—业务环节; years and retention periods are never mixed in one volume [Q].",
    ),
    Rule(
        "R18",
        "档号, catalog, retention (DA/T 13-2022, DA/T 22-2015, 社会保险业务档案管理规定 2009 / GB/T 31599-2015)",
        "catalog fields: 档号, 全宗号, 年度, 险种, 业务环节, 保管期限, 题名, 责任者, 日期, 页数, 密级, 件号/案卷号, 盒号, insured person (name, ID number), employer, scan status [Q/S].",
    ),
    Rule(
        "R19",
        "档号, catalog, retention (DA/T 13-2022, DA/T 22-2015, 社会保险业务档案管理规定 2009 / GB/T 31599-2015)",
        "every dossier has images, every image belongs to one dossier and decodes — a hard gate before transfer [Q].",
    ),
    Rule(
        "R20",
        "Metadata and fixity (DA/T 46/48, DA/T 70, GB/T 32905)",
        "per image: resolution, colour mode, compression and quality, capture time (ISO 8601 with zone), scanner maker/model/serial, software name/version, operator, processing log [Q/S].",
    ),
    Rule(
        "R21",
        "Metadata and fixity (DA/T 46/48, DA/T 70, GB/T 32905)",
        "per file: name, size, format/MIME, time, checksum with the algorithm's name [S].",
    ),
    Rule(
        "R22",
        "Metadata and fixity (DA/T 46/48, DA/T 70, GB/T 32905)",
        "SM3 (国密, GB/T 32905) and SHA-256 computed when a file is saved; recomputed on export and on receipt [Q+D]. (Python's hashlib has `sm3` through OpenSSL at ~370 MB/s; gmssl's pure-Python SM3 is 1400× slower — do not use it for hashing.)",
    ),
    Rule(
        "R23",
        "Metadata and fixity (DA/T 46/48, DA/T 70, GB/T 32905)",
        'XML is UTF-8; ZIP entry names flagged UTF-8 so 档号 with "·" survive [D].',
    ),
    Rule(
        "R24",
        "QC and acceptance",
        "automatic checks on 100 % of images, plus manual QC by a user other than the scanning clerk [S].",
    ),
    Rule(
        "R25",
        "QC and acceptance",
        "archive-room acceptance samples ≥ 5 % of dossiers (configurable), passes at ≥ 95 %, with 档号, missing pages and completeness required at 100 % [R/S]",
    ),
    Rule("R26", "QC and acceptance", "the sample's random seed is recorded so it can be reproduced [D]."),
    Rule(
        "R27",
        "Year-end transfer (电子档案移交与接收办法, DA/T 70-2018)",
        "a batch holds one 全宗 and one 年度, with a sequential batch number; default deadline 31 March of the next year (configurable) [D].",
    ),
    Rule(
        "R28",
        "Year-end transfer (电子档案移交与接收办法, DA/T 70-2018)",
        "package content: 说明文件, 文件目录.XML (顺序号, 档号, 责任者, 题名, 日期, 密级, 文件名, 备注), 电子档案/{年度}/{类别}/{档号}/… images with per-dossier metadata, and 其他/ (naming rules, schema, register, QC report) [Q].",
    ),
    Rule(
        "R29",
        "Year-end transfer (电子档案移交与接收办法, DA/T 70-2018)",
        "a manifest with every file's path, bytes and SM3, and totals (files, dossiers, bytes) that match the register exactly [Q].",
    ),
    Rule(
        "R30",
        "Year-end transfer (电子档案移交与接收办法, DA/T 70-2018)",
        "the manifest is signed with SM2 (detached, public key or certificate included) by the transferring side and countersigned by the receiver; images never depend on embedded signatures [D/Q].",
    ),
    Rule(
        "R31",
        "Year-end transfer (电子档案移交与接收办法, DA/T 70-2018)",
        "no encryption or proprietary compression inside the package (encryption of the carrier around it is allowed) [Q].",
    ),
    Rule(
        "R32",
        "Year-end transfer (电子档案移交与接收办法, DA/T 70-2018)",
        "the transfer register (电子档案移交与接收登记表): name, description, counts, data volume in GB to 3 decimals, carrier, results of the accuracy/integrity/usability/security checks, digest with algorithm named, signer/reviewer/date for both sides; PDF and XML [S].",
    ),
    Rule(
        "R33",
        "Year-end transfer (电子档案移交与接收办法, DA/T 70-2018)",
        "receipt runs the DA/T 70 transfer checks automatically and records each check with pass/fail: authenticity (hashes, signature, 档号 grammar, metadata values, duplicates, file properties vs metadata), integrity (counts and bytes vs register, mandatory fields, page sequence continuous from 0001, every dossier has images), usability (XML parses, format allow-list, every image decodes), security (malware scan where an engine is installed, no file outside the manifest) [Q/S].",
    ),
    Rule(
        "R34",
        "Year-end transfer (电子档案移交与接收办法, DA/T 70-2018)",
        "a batch is accepted only when all automatic checks pass; sampling comes on top [Q/S].",
    ),
    Rule(
        "R36",
        "Custody and security",
        "append-only audit log, hash-chained (SM3): scan, rescan, edit, QC decision, export, signing, acceptance, with user, time, workstation, object, before/after. Scanning, QC and acceptance of one dossier are done by different users [S].",
    ),
    Rule(
        "R37",
        "Custody and security",
        "no ordinary deletion after QC; destruction only through appraisal: expiry list → appraisal opinion → destruction register (销毁清册) → approval → at least two supervisors record method and date; the register is kept permanently [Q/S].",
    ),
    Rule(
        "R38",
        "Custody and security",
        "the station keeps transferred batches until the receipt is confirmed (default retention of sent batches 5 years) [D].",
    ),
    Rule(
        "R39",
        "Custody and security",
        "backups: at least two copies of untransferred work, one offline, verified by recomputing checksums [R/S].",
    ),
    Rule(
        "R40",
        "Custody and security",
        "personal data (ID and bank numbers) is access-controlled and masked in lists; local store encryption where feasible; never encrypt the transfer package itself [D].",
    ),
)

BY_NUMBER = {rule.number: rule for rule in RULES}
