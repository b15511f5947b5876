"""The problems that signatures answer with."""
from core.errors import Problem


class NotAPdf(Problem):
    type = "not-a-pdf"
    status = 422
    title = "The document is not a PDF"


class EncryptedPdf(Problem):
    type = "encrypted-pdf"
    status = 422
    title = "The PDF is encrypted; send it without a password"


class BrokenPdf(Problem):
    type = "broken-pdf"
    status = 422
    title = "The PDF cannot be read"


class DocumentTooLarge(Problem):
    type = "payload-too-large"
    status = 413
    title = "The document is larger than 10 MB"
