"""Operator commands: signing keys and service points."""
import click
from flask.cli import AppGroup

keys_cli = AppGroup("keys", help="Code signing keys.")
service_point_cli = AppGroup("service-point", help="Service points that scan codes.")
