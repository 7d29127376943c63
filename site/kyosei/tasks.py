"""Core Celery tasks."""

import datetime as dt
import socket

from celery import shared_task

from kyosei.private_files import private_orphans_delete


@shared_task(name="kyosei.healthcheck")
def healthcheck(token: str) -> dict[str, str]:
    """Echo ``token`` with the worker's host name: proves a worker is consuming."""
    return {"token": token, "host": socket.gethostname()}


@shared_task(name="kyosei.cleanup_orphan_files")
def cleanup_orphan_files(hours: float = 24) -> int:
    """Daily (beat): delete private files no row names, older than ``hours``."""
    result = private_orphans_delete(older_than=dt.timedelta(hours=hours))
    return len(result.deleted)
