"""The explicit list of operator commands (`flask --app wsgi ...`)."""
from flask import Flask


def register(app: Flask) -> None:
    from app.demo import demo_cli
    from codes.cli import keys_cli, service_point_cli

    for group in (demo_cli, keys_cli, service_point_cli):
        app.cli.add_command(group)
