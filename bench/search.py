"""Search benchmark: 200,000 pages of OCR text + 1,000,000 dossiers (``--quick``: 10x less).

Generates realistic social-security text (business vocabulary, names, employers, dates, amounts,
ID numbers) into a temporary catalog with the real schema, builds the search index with
``scanstation.search.rebuild_index``, then times ``scanstation.search.search`` for one-, two- and
three-character Chinese queries, ID numbers (full and last 6 digits) and 档号. The peer is a plain
``LIKE '%q%'`` scan over the same text and catalog fields, timed in the same run; for each peer query
with fewer than 1,000 matches, every page and dossier the scan finds must be among the search's hits
(``like_matches_missed_by_search`` must be 0).

Prints ONE JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import scanstation.bootstrap  # noqa: E402,F401 (every domain's catalog migrations)
from scanstation import search as ss  # noqa: E402
from scanstation.storage.catalog import Catalog, _statements  # noqa: E402

WORDS = """社会保险 养老保险 医疗保险 失业保险 工伤保险 生育保险 参保登记 参保人员 参保单位 缴费基数 缴费比例
个人账户 单位缴费 个人缴费 待遇支付 待遇核定 关系转移 转移接续 档案管理 业务档案 经办机构 基金征缴 退休审批
养老金 失业金 工伤认定 劳动能力鉴定 伤残津贴 丧葬补助金 抚恤金 生育津贴 医疗费用 住院费用 门诊费用 报销
补缴 滞纳金 稽核 监察 停保 续保 转入 转出 统筹地区 用人单位 劳动合同 工资总额 月平均工资 城镇职工
城乡居民 灵活就业 身份证号码 户籍所在地 联系电话 通讯地址 经办人 复核人 审核意见 备案 社保卡 银行账号
申请表 登记表 变更登记 注销登记 证明材料 签字 盖章 年度 月份 实际缴费年限 视同缴费年限 累计缴费 本人
同意 不同意 符合条件 按规定 予以办理 特此证明 存档 归档 移交 档案室 保管期限 永久 长期 核对无误
基本养老保险 职工基本医疗保险 失业保险金 一次性 待遇 标准 发放 领取 暂停 恢复 终止 死亡 出生 性别
民族 汉族 文化程度 参加工作时间 退休时间 工作单位 所属行业 单位类型 企业 机关 事业单位 个体工商户
""".split()
PUNCT = ["，", "，", "，", "。", "、", "；", "：", " "]
SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕建国志宏海波春梅红霞丹鹏飞斌宇浩凯")
CITIES = ["北京", "朝阳", "海淀", "丰台", "东城", "西城", "通州", "顺义", "昌平", "大兴"]
BRANDS = list("华信达宏源泰丰盛隆兴恒昌和安瑞嘉鑫利博远通")
TRADES = ["机械", "电子", "建筑", "商贸", "物流", "餐饮", "科技", "纺织", "医药", "印刷", "物业", "运输"]
FORMS = ["有限公司", "有限责任公司", "股份有限公司", "厂", "中心"]
TITLES = [
    "参保人员登记",
    "养老保险关系转移",
    "失业保险金申领",
    "工伤认定申请",
    "生育待遇核定",
    "退休审批",
    "缴费基数核定",
    "个人账户变更",
    "医疗费用报销",
    "参保单位登记",
    "补缴审批",
    "待遇支付",
]
CATS = ["ZY·DJ", "ZY·ZJ", "ZY·ZY", "ZY·DY"]
RETS = ["Y", "D100", "D50", "D30", "D10"]
REGIONS = ["110101", "110102", "110105", "110106", "110108", "110112", "110113", "110114"]


def id_number(rng: random.Random) -> str:
    body = (
        rng.choice(REGIONS)
        + f"{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        + f"{rng.randint(0, 999):03d}"
    )
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]
    return body + check


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def employer(rng: random.Random) -> str:
    return rng.choice(CITIES) + rng.choice(BRANDS) + rng.choice(BRANDS) + rng.choice(TRADES) + rng.choice(FORMS)


def page_text(rng: random.Random, name: str, company: str, idn: str) -> str:
    target = rng.randint(300, 600)
    parts, length = [], 0
    while length < target:
        roll = rng.random()
        if roll < 0.04:
            piece = name
        elif roll < 0.06:
            piece = company
        elif roll < 0.07:
            piece = idn
        elif roll < 0.10:
            piece = f"{rng.randint(2000, 2024)}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日"
        elif roll < 0.12:
            piece = f"{rng.randint(500, 20000)}.00元"
        else:
            piece = rng.choice(WORDS)
        parts.append(piece)
        parts.append(rng.choice(PUNCT) if rng.random() < 0.35 else "")
        length += len(piece) + 1
        if rng.random() < 0.03:
            parts.append("\n")
    return "".join(parts)


def dossier_number(i: int) -> str:
    item, vol = i % 500 + 1, i // 500 + 1
    return f"X001-{CATS[vol % 4]}·{2000 + (vol // 4) % 25}·{RETS[(vol // 100) % 5]}-{vol:04d}-{item:03d}"


def build(path: Path, n_dossiers: int, n_pages: int, rng: random.Random) -> dict:
    catalog = Catalog(path)
    catalog.migrate()
    conn = catalog.conn
    if ss.MIGRATION[0] not in catalog.applied_migrations():
        with catalog.write():
            for statement in _statements(ss.MIGRATION[2]):
                conn.execute(statement)
    conn.execute("PRAGMA synchronous=OFF")
    now = "2025-01-01T00:00:00+08:00"
    people = {}
    with catalog.write():
        conn.execute("INSERT INTO fonds(code, name) VALUES ('X001', '')")
        batch = []
        for i in range(n_dossiers):
            name, company, idn = person_name(rng), employer(rng), id_number(rng)
            people[i + 1] = (name, company, idn)
            number = dossier_number(i)
            year = int(number.split("·")[2])
            batch.append(
                (
                    i + 1,
                    number,
                    "X001",
                    year,
                    rng.choice(TITLES) + "（" + name + "）",
                    name,
                    idn,
                    company,
                    number.split("-")[1].rsplit("·", 2)[0],
                    number.split("·")[3].split("-")[0],
                    now,
                    now,
                )
            )
            if len(batch) == 10000:
                conn.executemany(
                    "INSERT INTO dossiers(id, number, fonds_code, year, title, person_name, "
                    "person_id_number, employer, category, retention, created_at, updated_at) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    batch,
                )
                batch = []
        if batch:
            conn.executemany(
                "INSERT INTO dossiers(id, number, fonds_code, year, title, person_name, "
                "person_id_number, employer, category, retention, created_at, updated_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                batch,
            )
    pages_per_dossier = 20
    scanned = max(1, n_pages // pages_per_dossier)
    page_id = 0
    chars = 0
    with catalog.write():
        pages, texts = [], []
        for d in range(1, scanned + 1):
            name, company, idn = people[d]
            number = dossier_number(d - 1)
            for seq in range(1, pages_per_dossier + 1):
                page_id += 1
                text = page_text(rng, name, company, idn)
                chars += len(text)
                pages.append((page_id, d, seq, f"{number}-{seq:04d}.jpg", now))
                texts.append((page_id, text, now))
                if len(pages) == 5000:
                    _flush_pages(conn, pages, texts)
                    pages, texts = [], []
        if pages:
            _flush_pages(conn, pages, texts)
    catalog.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return {"catalog": catalog, "people": people, "pages": page_id, "chars": chars, "scanned": scanned}


def _flush_pages(conn, pages, texts):
    conn.executemany(
        "INSERT INTO pages(id, dossier_id, seq, state, file_name, created_at) VALUES (?, ?, ?, 'active', ?, ?)", pages
    )
    conn.executemany(
        "INSERT INTO page_text(page_id, status, attempts, text, confidence, updated_at) "
        "VALUES (?, 'done', 1, ?, 90.0, ?)",
        texts,
    )


def db_bytes(conn) -> int:
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return conn.execute("PRAGMA page_count").fetchone()[0] * conn.execute("PRAGMA page_size").fetchone()[0]


def sample_queries(conn, rng: random.Random, people: dict, scanned: int, n: int) -> dict[str, list[str]]:
    texts = [r[0] for r in conn.execute("SELECT text FROM page_text ORDER BY random() LIMIT 400")]

    def substrings(k: int) -> list[str]:
        out = []
        while len(out) < n:
            text = rng.choice(texts)
            i = rng.randrange(0, len(text) - k)
            piece = text[i : i + k]
            if all("\u4e00" <= c <= "\u9fff" for c in piece):
                out.append(piece)
        return out

    one = substrings(1)[: n // 2] + [rng.choice(GIVEN + SURNAMES) for _ in range(n - n // 2)]
    two = substrings(2)[: n - 4] + ["档案", "王伟", "张敏", "稽核"]
    three = substrings(3)
    ids, last6, numbers = [], [], []
    keys = list(people)
    for _ in range(n):
        idn = people[rng.choice(keys)][2]
        ids.append(idn)
        last6.append(people[rng.choice(keys)][2][-6:])
        numbers.append(dossier_number(rng.choice(keys) - 1))
    return {"1char": one, "2char": two, "3char": three, "id": ids, "id_last6": last6, "number": numbers}


def like_peer(conn, query: str) -> tuple[set[int], set[int]]:
    """What a plain scan finds: (page ids, dossier ids)."""
    pattern = f"%{query}%"
    pages = conn.execute("SELECT page_id FROM page_text WHERE text LIKE ?", (pattern,)).fetchall()
    dossiers = conn.execute(
        "SELECT id FROM dossiers WHERE number LIKE ?1 OR title LIKE ?1 OR person_name LIKE ?1 "
        "OR employer LIKE ?1 OR person_id_number LIKE ?1",
        (pattern,),
    ).fetchall()
    return {r[0] for r in pages}, {r[0] for r in dossiers}


def completeness(conn, query: str, like: tuple[set[int], set[int]], cap: int = 1000) -> tuple[int, int, bool]:
    """(matches the scan found, of those missed by search, checked): every match of the scan must be among
    the search's hits. Search returns at most ``cap`` hits, so a query with more matches is checked only
    for precision (each hit is a real match) and counted as not checked for recall."""
    pages, dossiers = like
    hits = ss.search(conn, query, limit=cap, unmasked=True)
    hit_pages = {h.page_id for h in hits if h.page_id is not None}
    hit_dossiers = {h.dossier_id for h in hits if h.page_id is None}
    total = len(pages) + len(dossiers)
    if total >= cap:
        return total, 0, False
    missed = len(pages - hit_pages) + len(dossiers - hit_dossiers)
    return total, missed, True


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    k = max(0, min(len(values) - 1, int(round(p / 100 * (len(values) - 1)))))
    return values[k]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="10x less data")
    parser.add_argument("--queries", type=int, default=40, help="queries per class")
    parser.add_argument("--like-queries", type=int, default=5, help="LIKE peer queries per class")
    parser.add_argument("--keep", help="keep the generated catalog in this folder")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    n_pages, n_dossiers = 200_000 // scale, 1_000_000 // scale
    rng = random.Random(20240601)
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="search-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / "catalog.sqlite"
    if path.exists():
        path.unlink()
    try:
        t0 = time.perf_counter()
        data = build(path, n_dossiers, n_pages, rng)
        generate_s = time.perf_counter() - t0
        catalog = data["catalog"]
        conn = catalog.conn
        before = db_bytes(conn)
        t0 = time.perf_counter()
        with catalog.write():
            ss.rebuild_index(conn)
        build_s = time.perf_counter() - t0
        index_bytes = db_bytes(conn) - before
        queries = sample_queries(conn, rng, data["people"], data["scanned"], args.queries)
        result = {
            "bench": "search",
            "quick": args.quick,
            "pages": data["pages"],
            "dossiers": n_dossiers,
            "text_chars": data["chars"],
            "generate_s": round(generate_s, 1),
            "index_build_s": round(build_s, 1),
            "index_mb": round(index_bytes / 1e6, 1),
            "catalog_mb": round(before / 1e6, 1),
        }
        for q in ["档案", "保", "王"]:  # warm the page cache like a station that has been running
            ss.search(conn, q)
        misses = 0
        like_matches = like_missed = recall_checked = 0
        ours_all, like_all = [], []
        for cls, qs in queries.items():
            times, cpu = [], []
            for q in qs:
                t, c = time.perf_counter(), time.process_time()
                hits = ss.search(conn, q, limit=20, unmasked=True)
                times.append((time.perf_counter() - t) * 1000)
                cpu.append((time.process_time() - c) * 1000)  # SQLite runs in this process: load-independent
                if not hits:
                    misses += 1
            like_times = []
            for q in qs[: args.like_queries]:
                t = time.perf_counter()
                like = like_peer(conn, q)
                like_times.append((time.perf_counter() - t) * 1000)
                found, missed, checked = completeness(conn, q, like)
                like_matches += found if checked else 0
                like_missed += missed
                recall_checked += checked
            ours_all += times
            like_all += like_times
            result[f"{cls}_p50_ms"] = round(percentile(times, 50), 1)
            result[f"{cls}_p95_ms"] = round(percentile(times, 95), 1)
            result[f"{cls}_cpu_p95_ms"] = round(percentile(cpu, 95), 1)
            result[f"{cls}_like_p50_ms"] = round(percentile(like_times, 50), 1)
        result["misses"] = misses
        result["recall_queries_checked"] = recall_checked
        result["like_matches_checked"] = like_matches
        result["like_matches_missed_by_search"] = like_missed
        result["like_p50_ms"] = round(percentile(like_all, 50), 1)
        result["ours_p50_ms"] = round(percentile(ours_all, 50), 2)
        result["ours_p95_ms"] = round(percentile(ours_all, 95), 1)
        result["ratio_like_over_ours_p50"] = round(result["like_p50_ms"] / max(result["ours_p50_ms"], 0.01), 1)
        result["sqlite"] = sqlite3.sqlite_version
        result["load_avg_1m"] = round(os.getloadavg()[0], 1)
        catalog.close()
        print(json.dumps(result, ensure_ascii=False))
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
