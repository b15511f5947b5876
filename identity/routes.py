"""HTTP surface of identity: registration, sign-in, TOTP, the profile."""
from flask_smorest import Blueprint

blp = Blueprint("identity", __name__, url_prefix="/api/v1", description="Residents and sign-in")
