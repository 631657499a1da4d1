"""What the staff roles of `diagnosis.services.groups` may do in the accountability layer.

Moderators judge residents' feedback on commitments as they judge concerns; Facilitators keep the
list of commitment statuses. Programme and commitment pages need no grant here: Facilitators can
already add, edit and publish pages anywhere in the tree, and an agency that should keep only its
own programme up to date is given page permissions on that programme alone (docs/accountability.md).
Like `groups_ensure`, this only adds what is missing.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db import DEFAULT_DB_ALIAS, transaction

from diagnosis.services.groups import FACILITATORS, MODERATORS

CMS_GROUP_PERMISSIONS: dict[str, list[str]] = {
    MODERATORS: [
        "view_commitmentfeedback",
        "moderate_commitmentfeedback",
    ],
    FACILITATORS: [
        "view_commitmentstatus",
        "add_commitmentstatus",
        "change_commitmentstatus",
        "view_commitmentfeedback",
    ],
}


def cms_groups_ensure(*, using: str = DEFAULT_DB_ALIAS, apps=global_apps) -> None:
    create_permissions(apps.get_app_config("cms"), verbosity=0, using=using)
    with transaction.atomic(using=using):
        for name, codenames in CMS_GROUP_PERMISSIONS.items():
            group, _created = Group.objects.using(using).get_or_create(name=name)
            group.permissions.add(
                *Permission.objects.using(using).filter(
                    content_type__app_label="cms", codename__in=codenames
                )
            )


def cms_groups_ensure_after_migrate(sender, *, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """post_migrate receiver, connected for the cms app only."""
    cms_groups_ensure(using=using)
