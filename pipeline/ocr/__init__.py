"""OCR engines behind one small interface; one engine instance per process."""

from pipeline.ocr.base import OcrEngine, TextLine, get_engine

__all__ = ["OcrEngine", "TextLine", "get_engine"]
