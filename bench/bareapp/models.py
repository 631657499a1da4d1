from django.db import models


class BareRow(models.Model):
    """One accepted bare submission. Unmanaged: bench/submissions.py creates and drops the table."""

    key = models.UUIDField(unique=True)
    body = models.TextField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        managed = False
        db_table = "bench_bare_row"
