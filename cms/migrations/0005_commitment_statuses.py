"""The statuses a commitment starts with, in every language the site has. Municipalities can
rename, add or remove them in Snippets → Commitment statuses."""

import uuid

from django.db import migrations

STATUSES = [
    # key, default progress, {language: name}
    ("planned", 0, {"en": "Planned", "es": "Planificado", "fr": "Planifié", "pt": "Planejado"}),
    ("started", 10, {"en": "Started", "es": "Iniciado", "fr": "Commencé", "pt": "Iniciado"}),
    (
        "in-progress",
        50,
        {"en": "In progress", "es": "En ejecución", "fr": "En cours", "pt": "Em execução"},
    ),
    ("completed", 100, {"en": "Completed", "es": "Cumplido", "fr": "Réalisé", "pt": "Concluído"}),
    ("delayed", None, {"en": "Delayed", "es": "Retrasado", "fr": "En retard", "pt": "Atrasado"}),
    ("cancelled", None, {"en": "Cancelled", "es": "Cancelado", "fr": "Annulé", "pt": "Cancelado"}),
]


def create(apps, schema_editor):
    Locale = apps.get_model("wagtailcore", "Locale")
    CommitmentStatus = apps.get_model("cms", "CommitmentStatus")
    for order, (key, progress, names) in enumerate(STATUSES):
        translation_key = uuid.uuid4()
        for locale in Locale.objects.all():
            name = names.get(locale.language_code.split("-")[0], names["en"])
            CommitmentStatus.objects.get_or_create(
                key=key,
                locale=locale,
                defaults={
                    "name": name,
                    "default_progress": progress,
                    "sort_order": order,
                    "translation_key": translation_key,
                },
            )


class Migration(migrations.Migration):
    dependencies = [("cms", "0004_programmes")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
