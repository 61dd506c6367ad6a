"""Documents for people made from the record: the case file a court or arbitrator reads.

A layer of its own above the views (it tells events with the timeline's words) and the audit seal (it
prints each event's chain hash), below the composition root, so that the API and the CLI share it.
"""
