"""How a lower package tells or asks a higher one, without importing it.

Signals and resolvers are declared here and connected by the factory (``app.wiring``) at
start-up; nothing connects when a module is imported. A *signal* tells whoever listens that
something happened (blinker; receivers run in the sender's unit of work). A *resolver* is one
answer a lower package needs from a higher one: the higher package provides it at start-up,
and asking before it did is a bug, so it raises.
"""
from __future__ import annotations

from collections.abc import Callable

from blinker import Namespace

_signals = Namespace()

# The wallet, after every issue and revoke: sender the holder's index, ``vct`` the type.
credential_changed = _signals.signal("credential-changed")
# identity, after a registration commits: sender the new Person.
person_registered = _signals.signal("person-registered")


class Resolver:
    """One function a higher package provides to a lower one at start-up."""

    def __init__(self, name: str, doc: str) -> None:
        self.name = name
        self.__doc__ = doc
        self._fn: Callable | None = None

    def provide(self, fn: Callable) -> None:
        self._fn = fn

    def __call__(self, *args, **kwargs):
        if self._fn is None:
            raise RuntimeError(f"no {self.name} resolver was provided at start-up")
        return self._fn(*args, **kwargs)


# codes asks delegation who showed a code that is not simply its subject's own (``Claims`` →
# ``Shown`` or None), and has it noted on the scan.
shown_by = Resolver("shown-by", "Who showed this code for its subject; None for the subject.")
record_shown = Resolver("record-shown", "Note on the scan who showed the code.")
# identity asks codes whether a device proof is good (person id, device id, proof,
# challenge), and for a service point's live scan (scan id, service point id → Scan or None).
device_proof = Resolver("device-proof", "Whether the proof comes from the person's device.")
live_scan = Resolver("live-scan", "The service point's scan while it lives, else None.")
# identity asks the wallet for the claims of a person's newest valid resident-id, or None.
resident_id_claims = Resolver("resident-id-claims", "The person's resident-id claims.")
# The wallet's trust list asks signatures for the signing CA's entry (base URL → dict).
signing_ca_entry = Resolver("signing-ca-entry", "The signing CA as the trust list names it.")
