"""Wagtail's migrations create a group called "Moderators" that may add, edit, publish, lock and
unlock every page and manage every image and document. Convive's Moderators group has the same
name but a different job: judging residents' concerns, walk stops and feedback. Left as Wagtail
made it, every moderator could also rewrite and publish consultation pages and, through the
consultation hub, read questionnaire responses — which docs/moderation.md says they cannot.

This migration takes away exactly what Wagtail's migrations gave that group, once. Anything an
operator grants later stays (`groups_ensure` only ever adds, and this never runs again).
"""

from django.db import migrations

GROUP = "Moderators"
# wagtailcore 0002 and 0005: on the root page.
PAGE_PERMISSIONS = ["add_page", "change_page", "publish_page", "lock_page", "unlock_page"]
# wagtailimages/wagtaildocs 0002 (model and root-collection permissions) and
# wagtail_localize 0006.
MODEL_PERMISSIONS = [
    ("wagtailimages", "add_image"),
    ("wagtailimages", "change_image"),
    ("wagtailimages", "delete_image"),
    ("wagtailimages", "choose_image"),
    ("wagtaildocs", "add_document"),
    ("wagtaildocs", "change_document"),
    ("wagtaildocs", "delete_document"),
    ("wagtaildocs", "choose_document"),
    ("wagtail_localize", "submit_translation"),
]


def moderators_drop_wagtail_defaults(apps, schema_editor):
    db = schema_editor.connection.alias
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    GroupCollectionPermission = apps.get_model("wagtailcore", "GroupCollectionPermission")
    group = Group.objects.using(db).filter(name=GROUP).first()
    if group is None:
        return
    GroupPagePermission.objects.using(db).filter(
        group=group,
        page__depth=1,
        permission__content_type__app_label="wagtailcore",
        permission__codename__in=PAGE_PERMISSIONS,
    ).delete()
    model_permissions = [
        permission
        for app_label, codename in MODEL_PERMISSIONS
        if (
            permission := Permission.objects.using(db)
            .filter(content_type__app_label=app_label, codename=codename)
            .first()
        )
    ]
    GroupCollectionPermission.objects.using(db).filter(
        group=group, collection__depth=1, permission__in=model_permissions
    ).delete()
    group.permissions.remove(*model_permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("diagnosis", "0010_open_data_exports"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtailimages", "0027_image_description"),
        ("wagtaildocs", "0014_alter_document_file_size"),
        ("wagtail_localize", "0016_rename_page_revision_translationlog_revision"),
    ]

    operations = [
        migrations.RunPython(moderators_drop_wagtail_defaults, migrations.RunPython.noop),
    ]
