"""Page images to DA/T 31: measure and straighten, crop to the page, blank/duplicate/exposure
checks, orientation, and master encoding with the resolution in the header.

Capture code calls ``process_page`` for every page, in a worker of the station's process pool
(``scanstation.capture.PagePipeline``), and keeps ``ProcessedPage.signature`` to compare consecutive
pages with ``duplicate_of_previous``.
"""

from scanstation.imaging.analysis import (
    DUPLICATE_THRESHOLD,
    PageSignature,
    analyse,
    detect_blank,
    detect_exposure,
    duplicate_of_previous,
    is_duplicate,
    measure_skew,
    page_signature,
)
from scanstation.imaging.encode import available_formats, encode_image
from scanstation.imaging.geometry import map_points_through_log
from scanstation.imaging.orientation import detect_orientation, run_tesseract
from scanstation.imaging.pipeline import (
    FLAGS,
    MIN_DPI,
    PipelineSettings,
    ProcessedPage,
    load_page,
    process_page,
    processed_page_summary,
)

__all__ = [
    "DUPLICATE_THRESHOLD",
    "FLAGS",
    "MIN_DPI",
    "PageSignature",
    "PipelineSettings",
    "ProcessedPage",
    "analyse",
    "available_formats",
    "detect_blank",
    "detect_exposure",
    "detect_orientation",
    "duplicate_of_previous",
    "encode_image",
    "is_duplicate",
    "load_page",
    "map_points_through_log",
    "measure_skew",
    "page_signature",
    "process_page",
    "processed_page_summary",
    "run_tesseract",
]
