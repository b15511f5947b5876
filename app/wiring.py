"""What the factory connects at start-up: the receivers of the signals in ``core.signals``
and the resolvers that let a lower package ask a higher one. Nothing connects on import;
connecting twice (tests build many apps) changes nothing."""
from __future__ import annotations

from core import signals


def connect() -> None:
    from catalog import jobs as catalog_jobs, notices as catalog_notices
    from codes import devices, scans
    from delegation import shown_codes
    from enterprises import service as enterprises
    from identity import assurance
    from signatures import ca as signing_ca
    from wallet import service as wallet

    signals.shown_by.provide(shown_codes.shown_by)
    signals.record_shown.provide(shown_codes.record_shown)
    signals.device_proof.provide(devices.check_device_proof)
    signals.live_scan.provide(scans.get_scan)
    signals.resident_id_claims.provide(wallet.resident_id_claims)
    signals.signing_ca_entry.provide(signing_ca.trust_entry)

    # A strong reference each: the receivers live as long as their modules.
    for receiver in (assurance.on_credential_changed, enterprises.on_credential_changed,
                     catalog_jobs.on_credential_changed, catalog_notices.on_credential_changed):
        signals.credential_changed.connect(receiver, weak=False)
    signals.person_registered.connect(catalog_jobs.on_person_registered, weak=False)
