"""A real Celery worker process consumes tasks from Redis (CI's second run)."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.mail import EmailMultiAlternatives

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker_queue():
    """A worker process on its own queue; tasks sent there really leave this one."""
    from kyosei.celery import app

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "kyosei.settings_test"}
    queue = f"test-{uuid.uuid4().hex[:8]}"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "--workdir",
            str(ROOT / "site"),
            "-A",
            "kyosei.celery",
            "worker",
            "--pool",
            "solo",
            "--concurrency",
            "1",
            "-Q",
            queue,
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,  # the console email backend prints there
    )
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        yield queue
    finally:
        app.conf.task_always_eager = previous
        worker.terminate()
        worker.wait(timeout=30)


@pytest.mark.worker
def test_real_worker_completes_a_task(worker_queue):
    from kyosei.tasks import healthcheck

    token = uuid.uuid4().hex
    result = healthcheck.apply_async(args=[token], queue=worker_queue)
    # Eager tasks run earlier in this process can leave Celery believing it is
    # inside a task; this test really waits for another process.
    assert result.get(timeout=60, disable_sync_subtasks=False)["token"] == token


@pytest.mark.worker
def test_real_worker_sends_a_queued_email(worker_queue):
    """kyosei.mail's dict form crosses the broker (JSON) and the worker sends it."""
    from kyosei.mail import message_to_dict
    from kyosei.tasks import send_email

    message = EmailMultiAlternatives("件名 subject", "本文 body", to=["a@example.jp"])
    message.attach_alternative("<p>本文</p>", "text/html")
    result = send_email.apply_async(args=[message_to_dict(message)], queue=worker_queue)
    result.get(timeout=60, disable_sync_subtasks=False)
    assert result.successful()
