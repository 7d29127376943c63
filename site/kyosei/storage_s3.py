"""The private storage on an S3-compatible bucket (``KYOSEI_PRIVATE_STORAGE=s3``).

Needs the optional ``s3`` extra (django-storages with boto3); imported only when
the settings name it, so the filesystem default installs without boto3.
"""

from __future__ import annotations

from storages.backends.s3 import S3Storage

from kyosei.private_files import NO_URL


class PrivateS3Storage(S3Storage):
    """A private bucket: no URL (not even a signed one), an issued file is never
    overwritten, and no ACL is sent (the bucket's own policy, private with
    public access blocked, decides; buckets that disable ACLs refuse them)."""

    def __init__(self, **options):
        options["file_overwrite"] = False
        options["default_acl"] = None
        options["custom_domain"] = None
        super().__init__(**options)

    def url(self, name, *args, **kwargs):
        raise ValueError(NO_URL)
