"""Kyosei project package: settings, urls, Celery app and the shared core.

The Celery app is imported by ``KyoseiConfig.ready()`` (not here) so that
importing the settings never starts Celery.
"""
