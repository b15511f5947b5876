"""PDFs to sign, what a resident sends to sign or seal, and an outside validator: pyHanko
trusting nothing but the root certificate that /api/v1/signing/ca publishes."""
from __future__ import annotations

from io import BytesIO

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PdfFileWriter
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from tests.helpers import DEFAULT_PASSWORD


def make_pdf(text: str = "Contract 2026-001", password: str | None = None) -> bytes:
    """A one-page PDF with a line of text; encrypted (AES-256) when ``password`` is given."""
    writer = PdfFileWriter(stream_xrefs=False)
    content = generic.StreamObject(stream_data=f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode())
    font = generic.DictionaryObject({pdf_name("/Type"): pdf_name("/Font"),
                                     pdf_name("/Subtype"): pdf_name("/Type1"),
                                     pdf_name("/BaseFont"): pdf_name("/Helvetica")})
    page = generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Page"),
        pdf_name("/MediaBox"): generic.ArrayObject(generic.NumberObject(n) for n in (0, 0, 595, 842)),
        pdf_name("/Contents"): writer.add_object(content),
        pdf_name("/Resources"): generic.DictionaryObject({pdf_name("/Font"): generic.DictionaryObject(
            {pdf_name("/F1"): writer.add_object(font)})})})
    writer.insert_page(page)
    if password:
        writer.encrypt(password, password)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def _form(document: bytes, **fields) -> dict:
    return {**{k: v for k, v in fields.items() if v is not None},
            "document": (BytesIO(document), "contract.pdf")}


def sign(client, person: dict, document: bytes, password: str | None = DEFAULT_PASSWORD, **fields):
    return client.post("/api/v1/me/signatures", headers=person["headers"],
                       data=_form(document, password=password, **fields),
                       content_type="multipart/form-data")


def seal(client, person: dict, enterprise_id: str, document: bytes,
         password: str | None = DEFAULT_PASSWORD, **fields):
    return client.post(f"/api/v1/enterprises/{enterprise_id}/seals", headers=person["headers"],
                       data=_form(document, password=password, **fields),
                       content_type="multipart/form-data")


def verify(client, document: bytes):
    return client.post("/api/v1/signatures/verify", data=_form(document),
                       content_type="multipart/form-data")


def published_root(client) -> asn1_x509.Certificate:
    """The root certificate, the last of the chain that /api/v1/signing/ca answers."""
    response = client.get("/api/v1/signing/ca")
    assert response.status_code == 200 and response.mimetype == "application/pem-certificate-chain"
    blocks = list(pem.unarmor(response.data, multiple=True))
    assert len(blocks) == 2
    return asn1_x509.Certificate.load(blocks[-1][2])


def outside_verdicts(document: bytes, root: asn1_x509.Certificate, moment=None) -> list[dict]:
    """What pyHanko, trusting only ``root`` and fetching nothing, says of each signature."""
    reader = PdfFileReader(BytesIO(document))
    verdicts = []
    for embedded in reader.embedded_signatures:
        context = ValidationContext(trust_roots=[root], allow_fetching=False, moment=moment)
        status = validate_pdf_signature(embedded, signer_validation_context=context)
        verdicts.append({"intact": bool(status.intact and status.valid),
                         "trusted": bool(status.trusted),
                         "subject": status.signing_cert.subject.native,
                         "serial": format(status.signing_cert.serial_number, "X"),
                         "signed_at": status.signer_reported_dt,
                         "reason": embedded.sig_object.get("/Reason")})
    return verdicts
