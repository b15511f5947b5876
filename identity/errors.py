"""The problems that identity answers with. Each names its short type, status and title only."""
from core.auth import ExpiredToken as TokenExpired, InvalidToken  # noqa: F401  (one definition, in core.auth)
from core.errors import Problem, TooManyAttempts  # noqa: F401  (one definition, in core.errors)


class AlreadyRegistered(Problem):
    type = "already-registered"
    status = 409
    title = "This ID number or phone number is already registered"


class InvalidCredentials(Problem):
    # One answer for an unknown user, a wrong password and a wrong one-time password.
    type = "invalid-credentials"
    status = 401
    title = "The username or password is not correct"


class OtpRequired(Problem):
    type = "otp-required"
    status = 401
    title = "A one-time password is required"


class SubjectSuspended(Problem):
    type = "subject-suspended"
    status = 403
    title = "This account is suspended"


class TotpAlreadyEnabled(Problem):
    type = "totp-already-enabled"
    status = 409
    title = "Two-step sign-in is already on"


class TotpNotStarted(Problem):
    type = "totp-not-started"
    status = 409
    title = "Start two-step sign-in set-up first"


class InvalidOtp(Problem):
    type = "invalid-otp"
    status = 422
    title = "The one-time password is not correct"


class ReauthenticationRequired(Problem):
    # A bearer token alone must not change how the account signs in: it may be stolen.
    type = "reauthentication-required"
    status = 401
    title = "Confirm this with your password"
