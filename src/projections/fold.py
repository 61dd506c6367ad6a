"""Applying a decoded claim event to the claim, as the library's ``mutate`` does, with less work per event.

For an event of an ``@event``-decorated method, ``mutate`` checks the event's id and version against the
aggregate, calls the decorated method's body with the event's attributes that the method names
(``filter_kwargs_for_method_params``: a dict built of all the event's attributes, then the call bound
anew), and sets the aggregate's version and ``modified_on``. :class:`Fold` does the same steps with the
method and its parameter names looked up once per event class.

It takes that way only for a class whose ``mutate`` and ``apply`` are exactly the library's for
decorated methods (``DecoratedFuncCaller``, over ``CanMutateAggregate``); every other event (a claim's
opening, an event class with an ``apply`` of its own) and any event that does not follow its aggregate
goes to ``event.mutate`` itself, whose result or error stays the reference.
tests/projections/test_fast_rebuild.py holds both to equal claims over a varied mix.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from eventsourcing.domain import CanMutateAggregate, DecoratedFuncCaller, decorated_funcs

Applier = Callable[[Any, Any], Any]
"""``(event, aggregate) -> aggregate``."""


def mutate(event: Any, aggregate: Any) -> Any:
    """The library's way: ``event.mutate(aggregate)``."""
    return event.mutate(aggregate)


def _direct(cls: type[Any]) -> tuple[Callable[..., None], tuple[str, ...]] | None:
    """The decorated method's body and the names it takes, when ``cls.mutate`` is exactly that call."""
    if not issubclass(cls, DecoratedFuncCaller) or cls not in decorated_funcs:
        return None
    appliers = [c for c in cls.__mro__ if "apply" in c.__dict__]
    mutators = [c for c in cls.__mro__ if "mutate" in c.__dict__]
    if appliers != [DecoratedFuncCaller, CanMutateAggregate] or mutators != [CanMutateAggregate]:
        return None
    func = decorated_funcs[cls]
    if not inspect.isfunction(func):
        return None
    names = tuple(name for name in inspect.signature(func).parameters if name != "self")
    return func, names


class Fold:
    """``fold(event, aggregate)``: the aggregate after the event, as ``event.mutate(aggregate)`` leaves it."""

    def __init__(self) -> None:
        self._plans: dict[type[Any], tuple[Callable[..., None], tuple[str, ...]] | None] = {}

    def __call__(self, event: Any, aggregate: Any) -> Any:
        cls = type(event)
        plans = self._plans
        plan = plans[cls] if cls in plans else plans.setdefault(cls, _direct(cls))
        if (
            plan is None
            or aggregate is None
            or event.originator_id != aggregate.id
            or event.originator_version != aggregate.version + 1
        ):
            return event.mutate(aggregate)
        func, names = plan
        attrs = event.__dict__
        func(aggregate, **{name: attrs[name] for name in names if name in attrs})
        aggregate.version = attrs["originator_version"]
        aggregate.modified_on = attrs["timestamp"]
        return aggregate
