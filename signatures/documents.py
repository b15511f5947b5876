"""PDF documents as pyHanko reads, signs and validates them. Nothing here writes PDF syntax:
the signature dictionary, the CMS object and the byte ranges are pyHanko's.

Every way an untrusted file can fail to read (not a PDF, encrypted, broken, or so odd that
the reader recurses or overflows) ends in a ``Problem`` (422), never a 5xx.
"""
from __future__ import annotations

import hashlib
import logging
from io import BytesIO

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signatures.ca import Issued
from signatures.errors import BrokenPdf, DocumentTooLarge, EncryptedPdf, NotAPdf

log = logging.getLogger(__name__)

MAX_BYTES = 10 * 1024 * 1024
# ISO 32000 lets the header start anywhere in the first 1024 bytes.
_HEADER_WINDOW = 1024


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_document(data: bytes) -> None:
    """Raises ``DocumentTooLarge`` or ``NotAPdf`` for what is plainly not a PDF to sign."""
    if len(data) > MAX_BYTES:
        raise DocumentTooLarge()
    if b"%PDF-" not in data[:_HEADER_WINDOW]:
        raise NotAPdf()


def read_pdf(data: bytes) -> PdfFileReader:
    """The document as pyHanko reads it. Raises ``NotAPdf``, ``DocumentTooLarge``,
    ``EncryptedPdf`` or ``BrokenPdf``."""
    check_document(data)
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        encrypted = reader.encrypted
        if not encrypted:
            reader.root  # noqa: B018 - a file whose catalogue does not resolve is broken
    except Exception as exc:  # any failure on an untrusted file, recursion included
        log.info("unreadable PDF", extra={"error_type": type(exc).__name__})
        raise BrokenPdf() from exc
    if encrypted:
        raise EncryptedPdf()
    return reader


def _asn1_certificate(certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def sign_pdf(data: bytes, issued: Issued, field_name: str, reason: str | None,
             location: str | None) -> bytes:
    """The document with a PAdES (baseline B-B) signature by ``issued`` added as an
    incremental update, the chain embedded. Raises what ``read_pdf`` raises."""
    read_pdf(data)
    key = asn1_keys.PrivateKeyInfo.load(issued.key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    signer = signers.SimpleSigner(
        signing_cert=_asn1_certificate(issued.certificate), signing_key=key,
        cert_registry=SimpleCertificateStore.from_certs(
            [_asn1_certificate(issued.issuing), _asn1_certificate(issued.root)]))
    metadata = signers.PdfSignatureMetadata(
        field_name=field_name, reason=reason or None, location=location or None,
        subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256")
    try:
        writer = IncrementalPdfFileWriter(BytesIO(data), strict=False)
        return signers.PdfSigner(metadata, signer=signer).sign_pdf(writer).getvalue()
    except Exception as exc:  # any failure on an untrusted file, recursion included
        log.info("PDF not signable", extra={"error_type": type(exc).__name__})
        raise BrokenPdf("pyHanko could not add a signature to this PDF.") from exc
