"""A real Celery worker process consumes a task from Redis (CI's second run)."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.worker
def test_real_worker_completes_a_task():
    from kyosei.celery import app
    from kyosei.tasks import healthcheck

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
    )
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        token = uuid.uuid4().hex
        result = healthcheck.apply_async(args=[token], queue=queue)
        # Eager tasks run earlier in this process can leave Celery believing it is
        # inside a task; this test really waits for another process.
        assert result.get(timeout=60, disable_sync_subtasks=False)["token"] == token
    finally:
        app.conf.task_always_eager = previous
        worker.terminate()
        worker.wait(timeout=30)
