"""Use cases: what the platform's users and processes do, as load, decide, save on the event store.

``claims`` (the claims application), ``standing`` (merchant standing), ``simulation`` (what-if replays
of a policy), ``history`` (what each event changed), ``records`` (an event's public form) and
``visibility`` (who may see and act on what: the one place every layer asks).
"""
