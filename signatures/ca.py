"""The platform's signing CA: a root, the issuing CA under it, and the one-time certificates
it makes for each signature (like the short-lived certificates of remote signing services).

Keys are P-256 (the root P-384), stored Vault-encrypted, bound to their generation or owner.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import current_app
from sqlalchemy import func, select, update

from core import clock
from core.extensions import db
from core.ids import new_handle
from core.models import insert_for
from signatures.models import SignerKey, SigningCA

ROOT_YEARS = 20
ISSUING_YEARS = 10
# A certificate may be used from a little before it was made: clocks of verifiers differ.
_BACKDATE = timedelta(minutes=5)
_COUNTRY = x509.NameAttribute(NameOID.COUNTRY_NAME, "CN")
_PLATFORM = x509.NameAttribute(NameOID.ORGANIZATION_NAME, "OneCode")


def _vault():
    return current_app.extensions["vault"]


def _der_key(private: ec.EllipticCurvePrivateKey) -> bytes:
    return private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())


def _key_usage(*, signs_certificates: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=not signs_certificates,
                         content_commitment=not signs_certificates, key_encipherment=False,
                         data_encipherment=False, key_agreement=False,
                         key_cert_sign=signs_certificates, crl_sign=signs_certificates,
                         encipher_only=False, decipher_only=False)


def _builder(subject: x509.Name, issuer: x509.Name, public_key, issuer_key, start: datetime,
             end: datetime) -> x509.CertificateBuilder:
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                issuer_key.public_key()), critical=False))


def _ca_name(generation: int, what: str) -> x509.Name:
    return x509.Name([_COUNTRY, _PLATFORM, x509.NameAttribute(
        NameOID.COMMON_NAME, f"OneCode {what} G{generation}")])


def _build_generation(generation: int) -> dict:
    now = clock.now()
    root_key = ec.generate_private_key(ec.SECP384R1())
    root_name = _ca_name(generation, "Signing Root CA")
    root = (_builder(root_name, root_name, root_key.public_key(), root_key, now - _BACKDATE,
                     now + timedelta(days=365 * ROOT_YEARS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(_key_usage(signs_certificates=True), critical=True)
            .sign(root_key, hashes.SHA384()))
    issuing_key = ec.generate_private_key(ec.SECP256R1())
    issuing = (_builder(_ca_name(generation, "Signing CA"), root_name, issuing_key.public_key(),
                        root_key, now - _BACKDATE, now + timedelta(days=365 * ISSUING_YEARS))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(_key_usage(signs_certificates=True), critical=True)
               .sign(root_key, hashes.SHA384()))
    return {
        "generation": generation, "created_at": now,
        "root_certificate": root.public_bytes(serialization.Encoding.DER),
        "root_key_enc": _vault().encrypt(_der_key(root_key), _ca_context(generation, "root")),
        "issuing_certificate": issuing.public_bytes(serialization.Encoding.DER),
        "issuing_key_enc": _vault().encrypt(_der_key(issuing_key),
                                            _ca_context(generation, "issuing")),
    }


def _ca_context(generation: int, which: str) -> bytes:
    return f"signing-ca:{generation}:{which}".encode()


def current_ca() -> SigningCA | None:
    """The generation that signs now, or None before ``signing init``."""
    return db.session.scalars(select(SigningCA).where(SigningCA.retired_at.is_(None))
                              .order_by(SigningCA.generation.desc()).limit(1)).first()


def all_cas() -> list[SigningCA]:
    """Every generation, newest first: retired ones still anchor what they signed."""
    return list(db.session.scalars(select(SigningCA).order_by(SigningCA.generation.desc())))


def ensure_ca() -> tuple[SigningCA, bool]:
    """The current CA, made on first need (flushed); returns it and whether it is new.

    Two processes making the first CA at once: one insert wins, both use it."""
    ca = current_ca()
    if ca is not None:
        return ca, False
    generation = (db.session.scalar(select(func.max(SigningCA.generation))) or 0) + 1
    made = db.session.execute(insert_for(SigningCA).values(**_build_generation(generation))
                              .on_conflict_do_nothing().returning(SigningCA.generation)).first()
    ca = db.session.get(SigningCA, generation, populate_existing=True)
    return ca, made is not None


def rotate_ca() -> SigningCA:
    """Retire the current CA (its keys wiped; its certificates kept for verification) and
    make the next generation. Flushed."""
    db.session.execute(update(SigningCA).where(SigningCA.retired_at.is_(None))
                       .values(retired_at=clock.now(), root_key_enc=None, issuing_key_enc=None)
                       .execution_options(synchronize_session=False))
    generation = (db.session.scalar(select(func.max(SigningCA.generation))) or 0) + 1
    ca = SigningCA(**_build_generation(generation))
    db.session.add(ca)
    db.session.flush()
    return ca


def certificate(der: bytes) -> x509.Certificate:
    return x509.load_der_x509_certificate(der)


def chain_pem(ca: SigningCA) -> str:
    """The issuing CA's certificate, then the root's, as PEM."""
    return "".join(certificate(der).public_bytes(serialization.Encoding.PEM).decode()
                   for der in (ca.issuing_certificate, ca.root_certificate))


def fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def trust_entry(base_url: str) -> dict:
    """What the trust list says of the signing CA: where its chain is, and every root
    (current first) with its SHA-256 fingerprint."""
    return {"ca": f"{base_url}/api/v1/signing/ca", "roots": [
        {"generation": ca.generation, "current": ca.retired_at is None,
         "sha256": fingerprint(ca.root_certificate),
         "certificate": certificate(ca.root_certificate).public_bytes(
             serialization.Encoding.PEM).decode()} for ca in all_cas()]}


# The keys that sign and the certificates for each signature ----------------------------


def signer_key(owner: str) -> tuple[SignerKey, ec.EllipticCurvePrivateKey]:
    """The owner's key (``person:<id>`` or ``enterprise:<id>``), made on first use (flushed)."""
    row = db.session.get(SignerKey, owner)
    if row is None:
        private = ec.generate_private_key(ec.SECP256R1())
        db.session.execute(insert_for(SignerKey).values(
            owner=owner, serial="OC" + new_handle(20).upper(), created_at=clock.now(),
            private_key_enc=_vault().encrypt(_der_key(private), _owner_context(owner)))
            .on_conflict_do_nothing())
        row = db.session.get(SignerKey, owner, populate_existing=True)
    der = _vault().decrypt(row.private_key_enc, _owner_context(owner))
    return row, serialization.load_der_private_key(der, password=None)


def _owner_context(owner: str) -> bytes:
    return f"signer-key:{owner}".encode()


def person_subject(name: str, serial: str) -> x509.Name:
    return x509.Name([_COUNTRY, x509.NameAttribute(NameOID.SERIAL_NUMBER, serial),
                      x509.NameAttribute(NameOID.COMMON_NAME, name)])


def enterprise_subject(name: str, uscc: str) -> x509.Name:
    # ETSI EN 319 412-1 semantics: NTR (national trade register), country, the USCC.
    return x509.Name([_COUNTRY, x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
                      x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, f"NTRCN-{uscc}"),
                      x509.NameAttribute(NameOID.COMMON_NAME, name)])


@dataclass
class Issued:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    issuing: x509.Certificate
    root: x509.Certificate

    @property
    def serial(self) -> str:
        return format(self.certificate.serial_number, "X")


def issue_signature_certificate(ca: SigningCA, subject: x509.Name,
                                key: ec.EllipticCurvePrivateKey) -> Issued:
    """A certificate for one signature by ``key``, valid for SIGNATURE_CERTIFICATE_SECONDS."""
    issuing_der = _vault().decrypt(ca.issuing_key_enc, _ca_context(ca.generation, "issuing"))
    issuing_key = serialization.load_der_private_key(issuing_der, password=None)
    issuing = certificate(ca.issuing_certificate)
    now = clock.now()
    lifetime = timedelta(seconds=current_app.config["SIGNATURE_CERTIFICATE_SECONDS"])
    leaf = (_builder(subject, issuing.subject, key.public_key(), issuing_key, now - _BACKDATE,
                     now + lifetime)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(signs_certificates=False), critical=True)
            .sign(issuing_key, hashes.SHA256()))
    return Issued(leaf, key, issuing, certificate(ca.root_certificate))
