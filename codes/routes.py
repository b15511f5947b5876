"""HTTP surface of the code: my code, devices, JWKS, service-point tokens, scans."""
from flask_smorest import Blueprint

blp = Blueprint("codes", __name__, url_prefix="/api/v1", description="The code and scanning")
wellknown_blp = Blueprint("wellknown", __name__, url_prefix="/.well-known", description="Public keys")
