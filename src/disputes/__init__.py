"""Disputes: an event-sourced backend for after-sales disputes."""

__version__ = "0.1.0"
