"""Errors the pipeline raises. Stages raise; the runner records them and carries on."""


class ZizhiError(Exception):
    """Base of zizhi's own errors."""


class SubmissionError(ZizhiError):
    """The submission as a whole cannot be used (bad JSON, unknown category…): exit status 2."""


class DocumentError(ZizhiError):
    """One document cannot be loaded (missing, unsafe path, corrupt, too large)."""


class UnsafePathError(DocumentError):
    """A document path leads outside the submission's folder."""


class ContentChanged(ZizhiError):
    """A file no longer holds the bytes its submission was fingerprinted with (replaced between the
    scan and the read): nothing is judged on a mix; the new content is a new item."""
