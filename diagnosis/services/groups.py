"""The staff roles Convive ships with: Moderators and Facilitators.

`groups_ensure()` runs after every `migrate` (see `DiagnosisConfig.ready`), so a fresh install —
and every test database — has both groups with their permissions. It only ever *adds* what is
missing: an operator who grants a group more keeps it, and running it twice changes nothing.

Nobody here may delete concerns; only superusers can (nothing accepted is lost). Moderation is a
separate permission so that a facilitator who enters concerns for residents does not also judge
them, unless an operator puts them in both groups.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db import DEFAULT_DB_ALIAS, transaction

MODERATORS = "Moderators"
FACILITATORS = "Facilitators"

# Model permissions as "app_label.codename".
GROUP_PERMISSIONS: dict[str, list[str]] = {
    MODERATORS: [
        "wagtailadmin.access_admin",
        "diagnosis.view_concern",
        "diagnosis.moderate_concern",
        # Safety walks: read the walks, judge their stops, publish the reports of done walks.
        "maps.view_safetywalk",
        "maps.view_walkstop",
        "maps.moderate_walkstop",
        "maps.publish_walk_report",
    ],
    FACILITATORS: [
        "wagtailadmin.access_admin",
        "diagnosis.view_concern",
        "diagnosis.add_concern",
        "diagnosis.view_concerncategory",
        "diagnosis.add_concerncategory",
        "diagnosis.change_concerncategory",
        "maps.view_area",
        "maps.add_area",
        "maps.change_area",
        # Safety walks: plan them and record stops, but neither judge the stops nor publish.
        "maps.view_safetywalk",
        "maps.add_safetywalk",
        "maps.change_safetywalk",
        "maps.view_walkstop",
        "maps.add_walkstop",
        "wagtail_localize.submit_translation",
    ],
}

# Page permissions, granted on the tree root: every locale's home page is a child of the root,
# so this covers each translation of every consultation, and survives replacing the home page.
FACILITATOR_PAGE_PERMISSIONS = ["add_page", "change_page", "publish_page"]
# Images and documents for consultation pages, in the root collection (and so in all).
FACILITATOR_COLLECTION_PERMISSIONS = [
    "wagtailimages.add_image",
    "wagtailimages.choose_image",
    "wagtaildocs.add_document",
    "wagtaildocs.choose_document",
]

_APPS_WITH_PERMISSIONS = (
    "wagtailadmin",
    "wagtailcore",
    "wagtailimages",
    "wagtaildocs",
    "wagtail_localize",
    "diagnosis",
    "maps",
)


def _permission(codename: str, *, using: str) -> Permission | None:
    app_label, codename = codename.split(".", 1)
    return (
        Permission.objects.using(using)
        .filter(content_type__app_label=app_label, codename=codename)
        .first()
    )


def groups_ensure(*, using: str = DEFAULT_DB_ALIAS, apps=global_apps) -> dict[str, Group]:
    """Create the Moderators and Facilitators groups with their permissions, if missing.

    post_migrate runs app by app in INSTALLED_APPS order, so permissions of apps listed after
    `diagnosis` may not exist yet when this runs; Django's own `create_permissions` is
    idempotent, so call it for the apps whose permissions we grant.
    """
    for label in _APPS_WITH_PERMISSIONS:
        try:
            app_config = apps.get_app_config(label)
        except LookupError:
            continue
        create_permissions(app_config, verbosity=0, using=using)

    from wagtail.models import Collection, GroupCollectionPermission, GroupPagePermission, Page

    groups = {}
    with transaction.atomic(using=using):
        for name, codenames in GROUP_PERMISSIONS.items():
            group, _created = Group.objects.using(using).get_or_create(name=name)
            permissions = [p for c in codenames if (p := _permission(c, using=using))]
            group.permissions.add(*permissions)
            groups[name] = group

        facilitators = groups[FACILITATORS]
        root_page = Page.objects.using(using).filter(depth=1).first()
        if root_page is not None:
            for codename in FACILITATOR_PAGE_PERMISSIONS:
                permission = _permission(f"wagtailcore.{codename}", using=using)
                if permission is not None:
                    GroupPagePermission.objects.using(using).get_or_create(
                        group=facilitators, page=root_page, permission=permission
                    )
        root_collection = Collection.objects.using(using).filter(depth=1).first()
        if root_collection is not None:
            for codename in FACILITATOR_COLLECTION_PERMISSIONS:
                permission = _permission(codename, using=using)
                if permission is not None:
                    GroupCollectionPermission.objects.using(using).get_or_create(
                        group=facilitators, collection=root_collection, permission=permission
                    )
    return groups


def groups_ensure_after_migrate(sender, *, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """post_migrate receiver (connected for the diagnosis app only, so it runs once)."""
    groups_ensure(using=using)
