"""The problems that the code and scanning routes answer with (type, status and title only)."""
from core.clients import InvalidClient  # noqa: F401  (one definition, in core.clients)
from core.errors import Problem
from identity.errors import SubjectSuspended  # noqa: F401  (one definition, in identity.errors)


class CodeMalformed(Problem):
    type = "malformed-code"
    status = 400
    title = "This is not a code"


class CodeInvalid(Problem):
    type = "invalid-code"
    status = 422
    title = "The code is not valid"


class CodeExpired(Problem):
    type = "code-expired"
    status = 422
    title = "The code has expired"


class CodeAlreadyUsed(Problem):
    type = "code-already-used"
    status = 409
    title = "The code has already been used"


class PurposeNotAllowed(Problem):
    type = "purpose-not-allowed"
    status = 403
    title = "This service point may not scan for this purpose"


class TooManyDevices(Problem):
    type = "too-many-devices"
    status = 409
    title = "Too many devices are registered; remove one first"
