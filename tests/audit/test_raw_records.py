"""The export reads stored state straight to chain records: the same records, hashes and lines as
decoding each event through the aggregate layer, and the aggregate layer's verdict whenever unsure."""

from __future__ import annotations

from datetime import datetime

import pytest
from eventsourcing.persistence import Notification

from disputes.application.claims import DisputesApplication
from disputes.application.records import event_record, rfc3339
from disputes.audit.canonical import ZERO_HASH, chain_record, line
from disputes.audit.chain import as_notification, iter_notifications, iter_stored
from disputes.audit.raw_records import _utc_text, chain_line, raw_decoder
from support.audit import MERCHANT, Clock, Tamper, busy_store, open_claim


def test_every_stored_event_reads_raw_to_the_record_and_line_the_aggregate_layer_gives(
    app: DisputesApplication, clock: Clock
) -> None:
    busy_store(app, clock)
    refunded = open_claim(app, order="o-refunded")  # and an accepted, refunded claim: other event types
    app.respond(MERCHANT, refunded, decision="accept", amount=None, message="Sorry.")  # type: ignore[arg-type]
    app.refund(MERCHANT, refunded, amount="80.00", payment_reference="pay-1")
    raw = raw_decoder(app)
    prev, checked = ZERO_HASH, 0
    for notification in iter_notifications(app, 0):
        fast = raw(notification)
        assert fast is not None, notification.topic
        slow = event_record(app.mapper.to_domain_event(notification))
        assert fast == slow.as_dict()
        chained, text = chain_line(notification.id, fast, prev)
        reference = chain_record(notification.id, slow, prev)
        assert (chained, text) == (reference, line(reference))
        prev, checked = reference["hash"], checked + 1
    assert checked > 15


def test_the_store_s_plain_rows_are_its_notifications_and_read_raw_to_the_same_records(
    app: DisputesApplication, clock: Clock
) -> None:
    busy_store(app, clock)
    raw = raw_decoder(app)
    notifications = list(iter_notifications(app, 0))
    rows = list(iter_stored(app, 0, batch=4))  # pages of 4: the paging too
    assert [row.id for row in rows] == [n.id for n in notifications]
    for row, notification in zip(rows, notifications, strict=True):
        assert not isinstance(row, Notification), "the recorder reads plain rows"
        assert as_notification(app, row) == notification
        record = raw(row)
        assert record is not None and record == raw(notification)
    middle = [row.id for row in iter_stored(app, rows[2].id, rows[9].id, batch=3)]
    assert middle == [row.id for row in rows[3:10]]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b'"role":"buyer"', b'"role":"emperor"'),  # an actor that no longer validates
        (b'"_type_":"datetime_iso"', b'"_type_":"sundial"'),  # a transcoding nobody registered
        (b'"body":"Not enough', b'"body":1.5,"x":"Not enough'),  # a float
        (b'"_data_":"2026', b'"_data_":"not a time 2026'),  # a time that does not parse
    ],
)
def test_a_stored_state_the_raw_reader_is_unsure_of_is_left_to_the_aggregate_layer(
    app: DisputesApplication, clock: Clock, tamper: Tamper, old: bytes, new: bytes
) -> None:
    busy_store(app, clock, claims=1)
    position = next(n.id for n in iter_notifications(app, 0) if old in tamper.state(n.id))
    tamper.replace_in_state(position, old, new)
    notification = next(n for n in iter_notifications(app, position - 1, position))

    assert raw_decoder(app)(notification) is None


@pytest.mark.parametrize(
    "stored",
    [
        "2026-11-02T10:00:00+00:00",
        "2026-11-02T10:00:00.123456+00:00",
        "2026-11-02T10:00:00.000001+00:00",
        "2026-11-02T10:00:00.000000+00:00",
        "2026-11-02T10:00:00.120+00:00",
        "2026-11-02 10:00:00+00:00",
        "2026-11-02T18:00:00+08:00",
        "2026-11-02T18:00:00.5-03:30",
        "2026-11-02T10:00:00Z",
    ],
)
def test_a_stored_time_read_off_its_text_is_what_rfc3339_writes_of_it(stored: str) -> None:
    moment = datetime.fromisoformat(stored)
    assert _utc_text(stored, moment) == rfc3339(moment)
