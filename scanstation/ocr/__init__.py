"""Background OCR: the tesseract wrapper (``tesseract``) and the persistent queue (``queue``).

Kept import-light: worker processes import only ``scanstation.ocr.tesseract``.
"""
