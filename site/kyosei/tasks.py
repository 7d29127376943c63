"""Core Celery tasks."""

import socket

from celery import shared_task


@shared_task(name="kyosei.healthcheck")
def healthcheck(token: str) -> dict[str, str]:
    """Echo ``token`` with the worker's host name: proves a worker is consuming."""
    return {"token": token, "host": socket.gethostname()}
