"""`flask --app wsgi demo seed`: demo residents and service points, printed as JSON."""
from flask.cli import AppGroup

demo_cli = AppGroup("demo", help="Demo data for the embedded defaults.")
