"""OCR: the engines behind one interface (``engines``), tesseract's TSV post-processing
(``tesseract``), the page layout store (``layout``) and the persistent queue (``queue``).

Kept import-light: worker processes import only ``scanstation.ocr.engines`` and what it needs.
"""
