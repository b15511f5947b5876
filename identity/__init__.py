"""Persons, sign-in and the tokens of the phone app."""
