"""CPU time per page of the PP-OCR engine, stage by stage, with its quality, for choosing its settings.

    .venv/bin/python bench/ocr_stages.py                             # the station's settings, 6 forms
    .venv/bin/python bench/ocr_stages.py --det-side 2000 --rec-batch 6  # rapidocr's own (before)
    .venv/bin/python bench/ocr_stages.py --pages 24 --cls            # with the 0°/180° line classifier

CPU time (``time.process_time`` of this one process, all its threads), not wall time: on a shared,
busy machine the CPU a page needs is what decides pages per hour, and it moves far less with load
(PP-OCR: 1.9-2.4 s at load averages of 2-4, where wall time per page was 1.9-3.8 s).
Stages: ``decode`` (JPEG to BGR), ``det_pre`` (scaling and normalising the page for detection),
``det_infer`` (the detection network), ``det_post`` (boxes from its map), ``crop`` (the text lines cut
from the page), ``cls`` (the line classifier, when on), ``rec`` (the recognition network and its
decoding), ``post`` (word boxes, layout, reading order). The pipeline is the one of rapidocr 1.4.4
(``RapidOCR.__call__``) step by step, on a reader made by ``engines.make_rapidocr``; the first form is
read once before timing (model warm-up). Forms and scores as in bench/ocr_quality.py (same seed:
the first 6 forms are its quick set). ``pages_per_hour_2_cores`` = 2 x 3600 / CPU s per page: two
one-thread workers with nothing else running. Prints ONE JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import ocr_quality  # noqa: E402

from scanstation.devices.ocr_forms import form_set, render_form  # noqa: E402
from scanstation.ocr import engines  # noqa: E402

STAGES = ("decode", "det_pre", "det_infer", "det_post", "crop", "cls", "rec", "post")


def read_timed(reader, path: str, use_cls: bool) -> tuple[dict, str]:
    """One page through the reader stage by stage: (CPU seconds per stage, page text as stored)."""
    import numpy as np

    cpu: dict[str, float] = {}
    clock = time.process_time

    t = clock()
    img = engines._decode(path)
    raw_h, raw_w = img.shape[:2]
    cpu["decode"] = clock() - t

    t = clock()
    page, ratio_h, ratio_w = reader.preprocess(img)
    record = {"preprocess": {"ratio_h": ratio_h, "ratio_w": ratio_w}}
    page, record = reader.maybe_add_letterbox(page, record)
    detector = reader.text_det
    prepared = detector.get_preprocess(max(page.shape[:2]))(page)
    cpu["det_pre"] = clock() - t

    t = clock()
    preds = detector.infer(prepared)[0]
    cpu["det_infer"] = clock() - t

    t = clock()
    boxes, _ = detector.postprocess_op(preds, page.shape[:2])
    boxes = reader.sorted_boxes(detector.filter_tag_det_res(boxes, page.shape[:2]))
    cpu["det_post"] = clock() - t

    t = clock()
    crops = reader.get_crop_img_list(page, boxes)
    cpu["crop"] = clock() - t

    t = clock()
    cls_res = None
    if use_cls:
        crops, cls_res, _ = reader.text_cls(crops)
    cpu["cls"] = clock() - t

    t = clock()
    rec, _ = reader.text_rec(crops, True)
    cpu["rec"] = clock() - t

    t = clock()
    rec = reader.cal_rec_boxes(crops, boxes, rec)
    for item in rec:
        if item[2]:
            item[2] = reader._get_origin_points(item[2], record, raw_h, raw_w).astype(np.int32).tolist()
    boxes = reader._get_origin_points(boxes, record, raw_h, raw_w)
    result, _ = reader.get_final_res(boxes, cls_res, rec, 0.0, 0.0, 0.0)
    layout = engines.layout_from_rapidocr(result or [], raw_w, raw_h, engines.rapidocr_label())
    text = engines.text_from_layout(layout)
    cpu["post"] = clock() - t
    return cpu, text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=6, help="forms to read (default 6: the quick set)")
    ap.add_argument("--det-side", type=int, default=engines.DET_MAX_SIDE, help="detection: longest side, px")
    ap.add_argument("--rec-batch", type=int, default=engines.REC_BATCH, help="recognition: crops per run")
    ap.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra-op threads")
    ap.add_argument("--cls", action="store_true", help="run the 0°/180° line classifier")
    args = ap.parse_args()

    load_start = os.getloadavg()
    reader = engines.make_rapidocr(
        det_side=args.det_side, rec_batch=args.rec_batch, threads=args.threads, use_cls=args.cls
    )
    with tempfile.TemporaryDirectory(prefix="ocrs-") as tmp:
        paths, dpis, truths = [], [], []
        for i, spec in enumerate(form_set(args.pages, seed=20261206)):
            img, truth = render_form(spec)
            path = Path(tmp) / f"form-{i:03d}.jpg"
            img.save(path, "JPEG", quality=spec.jpeg_quality, dpi=(spec.dpi, spec.dpi))
            paths.append(str(path))
            dpis.append(spec.dpi)
            truths.append({"text": truth.text, "number": truth.number, "id_number": truth.id_number})
        read_timed(reader, paths[0], args.cls)  # warm-up, not counted
        per_page, pages = [], []
        for path in paths:
            cpu, text = read_timed(reader, path, args.cls)
            per_page.append(cpu)
            pages.append({"ordered": text, "text": text})
    n = len(paths)
    stages = {k: round(sum(p[k] for p in per_page) / n, 3) for k in STAGES}
    total = sum(sum(p.values()) for p in per_page) / n
    by_dpi = {}
    for dpi in sorted(set(dpis)):
        sel = [sum(p.values()) for p, d in zip(per_page, dpis) if d == dpi]
        by_dpi[str(dpi)] = round(sum(sel) / len(sel), 3)
    quality = ocr_quality.score(truths, pages)
    out = {
        "bench": "ocr_stages",
        "forms": n,
        "settings": {
            "det_side": args.det_side,
            "rec_batch": args.rec_batch,
            "threads": args.threads,
            "cls": args.cls,
        },
        "cpu_s_per_page": round(total, 3),
        "cpu_s_per_page_by_dpi": by_dpi,
        "cpu_s_per_stage": stages,
        "pages_per_hour_2_cores": round(2 * 3600.0 / total),
        **{k: quality[k] for k in ("cer_pct", "id_exact", "dh_exact", "dh_found", "dh_stored")},
        "loadavg_start": [round(x, 2) for x in load_start],
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
