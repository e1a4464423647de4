"""Custody of the paper at the scanning desk: ``paper out|in|unbind|rebind|desk|handover``."""

from __future__ import annotations

from pathlib import Path

from scanstation.i18n import tr


def _which(p) -> None:
    p.add_argument("numbers", nargs="*", metavar="档号")
    p.add_argument("--box", metavar="盒号", help=tr("all dossiers of this box", "该盒的全部案卷"))


def register(sub) -> None:
    group = sub.add_parser(
        "paper", help=tr("paper at the scanning desk: check-out, binding, check-in", "纸质档案调档：调出、拆装订、归还")
    ).add_subparsers(dest="paper_cmd", metavar="ACTION")
    p = group.add_parser("out", help=tr("check paper out of the store room to this desk (调档)", "从库房调档到扫描台"))
    _which(p)
    p.add_argument(
        "--from",
        dest="store_person",
        required=True,
        metavar="NAME",
        help=tr("the store-room person handing it over", "库房交出人"),
    )
    p.add_argument("--due-days", type=int, default=5)
    p.add_argument("--note", default="")
    p.set_defaults(run=cmd_out)
    p = group.add_parser("in", help=tr("check paper back in to the store room", "归还库房"))
    _which(p)
    p.add_argument(
        "--to",
        dest="store_person",
        required=True,
        metavar="NAME",
        help=tr("the store-room person receiving it", "库房接收人"),
    )
    p.add_argument("--note", default="")
    p.set_defaults(run=cmd_in)
    for name, state, text in (
        ("unbind", "unbound", tr("record that the binding was taken apart", "登记已拆装订")),
        ("rebind", "rebound", tr("record that the binding is restored", "登记已还原装订")),
    ):
        p = group.add_parser(name, help=text)
        _which(p)
        p.set_defaults(run=cmd_binding, state=state)
    p = group.add_parser("desk", help=tr("paper at the scanning desk, overdue first", "在扫描台的纸质档案（逾期在前）"))
    p.set_defaults(run=cmd_desk)
    p = group.add_parser(
        "handover", help=tr("print the hand-over list of a move for both signatures", "打印交接清单供双方签字")
    )
    p.add_argument("move", type=int, metavar="MOVE")
    p.add_argument("--out", required=True, metavar="FILE.pdf")
    p.set_defaults(run=cmd_handover)


def _move_data(move) -> dict:
    return {"move": move.id, "kind": move.kind, "dossiers": move.numbers, "box": move.box_no, "due_at": move.due_at}


def cmd_out(args, ctx) -> int:
    from scanstation.custody.paper import check_out

    move = check_out(
        ctx.session(),
        numbers=args.numbers,
        box=args.box,
        store_person=args.store_person,
        due_days=args.due_days,
        note=args.note,
    )
    ctx.emit(
        _move_data(move),
        tr(
            "Move {m}: {n} dossier(s) checked out to the desk, due {d}. Print the hand-over list: "
            "scanstation paper handover {m} --out FILE.pdf",
            "调档 {m}：{n} 卷已调至扫描台，应于 {d} 前归还。打印交接清单：scanstation paper handover {m} --out 文件.pdf",
            m=move.id,
            n=len(move.numbers),
            d=move.due_at[:10],
        ),
    )
    return 0


def cmd_in(args, ctx) -> int:
    from scanstation.custody.paper import check_in

    move = check_in(ctx.session(), numbers=args.numbers, box=args.box, store_person=args.store_person, note=args.note)
    ctx.emit(
        _move_data(move),
        tr(
            "Move {m}: {n} dossier(s) back in the store room.",
            "交接 {m}：{n} 卷已归还库房。",
            m=move.id,
            n=len(move.numbers),
        ),
    )
    return 0


def cmd_binding(args, ctx) -> int:
    from scanstation.custody.paper import BINDING_ZH, set_binding

    numbers = set_binding(ctx.session(), args.state, numbers=args.numbers, box=args.box)
    ctx.emit(
        {"dossiers": numbers, "binding": args.state},
        tr("{n} dossier(s): {s}.", "{n} 卷：{s}。", n=len(numbers), s=tr(args.state, BINDING_ZH[args.state])),
    )
    return 0


def cmd_desk(args, ctx) -> int:
    from scanstation.custody.paper import BINDING_ZH, at_desk

    rows = at_desk(ctx.session())
    rows.sort(key=lambda r: (not r["overdue"], r["due_at"], r["number"]))
    lines = [
        f"{'!' if r['overdue'] else ' '} {r['number']:<32} {r['box_no']:<6} "
        f"{tr(r['binding'], BINDING_ZH.get(r['binding'], r['binding'])):<8} {r['due_at'][:10]}  {r['desk_person']}"
        for r in rows
    ]
    ctx.emit(rows, lines or [tr("No paper at the desk.", "扫描台没有纸质档案。")])
    return 0


def cmd_handover(args, ctx) -> int:
    from scanstation.custody.paper import write_handover

    out = write_handover(ctx.session(), args.move, Path(args.out))
    ctx.emit({"file": str(out)}, tr("Hand-over list written to {f}.", "交接清单已生成：{f}。", f=out))
    return 0
