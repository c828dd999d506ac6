"""Logs of aopay through Python's ``logging``: loggers ``aopay.http`` (calls,
retries), ``aopay.credentials``, ``aopay.journal`` and ``aopay.sandbox``.
Configure them as any logger; ``AOPAY_LOG=debug`` (or ``trace``, ``info``,
``warning``) shows them on stderr without configuring anything. Customer
numbers are masked and header values never logged, at every level."""

from __future__ import annotations

import logging
import os

from . import _aopay

TRACE = 5
logging.addLevelName(TRACE, "TRACE")

_LEVELS = {
    "trace": TRACE,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def configure_from_environment() -> None:
    """Apply ``AOPAY_LOG`` (``debug``, or the CLI's ``aopay=debug``) to the
    ``aopay`` logger, with a stderr handler if it has none."""
    wanted = os.environ.get("AOPAY_LOG", "").strip().lower().rsplit("=", 1)[-1]
    level = _LEVELS.get(wanted)
    if level is not None:
        logger = logging.getLogger("aopay")
        logger.setLevel(level)
        if not logger.handlers:
            handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
            logger.addHandler(handler)
    refresh()


def refresh() -> None:
    """Read the ``aopay`` logger's level again (done when a client is built;
    call it after changing the level of a running program's logger)."""
    _aopay._refresh_logging()
