"""The problems that the wallet routes answer with (type, status and title only)."""
from core.clients import InvalidClient  # noqa: F401  (one definition, in core.clients)
from core.errors import Problem


class TypeNotAllowed(Problem):
    type = "type-not-allowed"
    status = 403
    title = "This issuer may not issue credentials of this type"


class UnknownType(Problem):
    type = "unknown-type"
    status = 422
    title = "No credential type has this name"


class CredentialNotUsable(Problem):
    type = "credential-not-usable"
    status = 409
    title = "The credential is revoked, expired or not yet valid"


class AlreadyRevoked(Problem):
    type = "already-revoked"
    status = 409
    title = "The credential was already revoked"


class AlreadyAnswered(Problem):
    type = "already-answered"
    status = 409
    title = "This request has already been answered"


class ScanNotPerson(Problem):
    type = "subject-not-supported"
    status = 422
    title = "Materials can only be asked of a person's scan"
