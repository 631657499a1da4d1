import django.db.models.deletion
from django.db import migrations, models

import diagnosis.models


def fill_public_ids(apps, schema_editor):
    """Give every existing concern its random public identifier (one UPDATE per batch)."""
    Concern = apps.get_model("diagnosis", "Concern")
    batch = []
    for concern in (
        Concern.objects.filter(public_id__isnull=True).only("pk").iterator(chunk_size=2000)
    ):
        concern.public_id = diagnosis.models.new_public_id()
        batch.append(concern)
        if len(batch) == 2000:
            Concern.objects.bulk_update(batch, ["public_id"])
            batch = []
    if batch:
        Concern.objects.bulk_update(batch, ["public_id"])


SOURCES = [
    ("online", "Online, by the resident"),
    ("facilitator", "By a facilitator on a resident's behalf"),
    ("paper", "From a paper form"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("diagnosis", "0008_results_and_prioritisation"),
    ]

    operations = [
        # The column is added without a default so that SQLite adds it in place: with one,
        # Django would rebuild the table, and SpatiaLite loses the geometry columns' registration.
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AddField(
                    model_name="concern",
                    name="public_id",
                    field=models.CharField(
                        editable=False, max_length=12, null=True, verbose_name="public identifier"
                    ),
                ),
            ],
            state_operations=[
                migrations.AddField(
                    model_name="concern",
                    name="public_id",
                    field=models.CharField(
                        default=diagnosis.models.new_public_id,
                        editable=False,
                        max_length=12,
                        null=True,
                        verbose_name="public identifier",
                    ),
                ),
            ],
        ),
        migrations.RunPython(fill_public_ids, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="concern",
            constraint=models.UniqueConstraint(
                condition=models.Q(("public_id__isnull", False)),
                fields=("public_id",),
                name="concern_public_id_unique",
            ),
        ),
        migrations.AlterField(
            model_name="concern",
            name="source",
            field=models.CharField(
                choices=[
                    *SOURCES,
                    ("open311", "From another reporting app (Open311)"),
                    ("import", "Imported from a file"),
                ],
                default="online",
                max_length=12,
                verbose_name="source",
            ),
        ),
        migrations.CreateModel(
            name="ConcernContact",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("email", models.EmailField(blank=True, max_length=254, verbose_name="e-mail")),
                ("phone", models.CharField(blank=True, max_length=40, verbose_name="phone")),
                (
                    "first_name",
                    models.CharField(blank=True, max_length=100, verbose_name="first name"),
                ),
                (
                    "last_name",
                    models.CharField(blank=True, max_length=100, verbose_name="last name"),
                ),
                ("device_id", models.CharField(blank=True, max_length=100, verbose_name="device")),
                (
                    "account_id",
                    models.CharField(blank=True, max_length=100, verbose_name="account"),
                ),
                (
                    "concern",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="contact",
                        to="diagnosis.concern",
                        verbose_name="concern",
                    ),
                ),
            ],
            options={
                "verbose_name": "contact of a concern",
                "verbose_name_plural": "contacts of concerns",
            },
        ),
    ]
