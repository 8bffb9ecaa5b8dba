"""The kinds of SPEC §3.1. Districts add their own through the kinds table (configuration, not code)."""

from django.db import migrations

KINDS = [
    ("enterprise", "企业/个体", 10, False),
    ("school", "学校", 20, True),
    ("kindergarten", "幼儿园", 30, True),
    ("tutoring", "辅导学校", 40, True),
    ("shop", "门店", 50, False),
    ("supermarket", "超市", 60, False),
    ("mall", "商场", 70, False),
    ("rental_house", "出租屋", 80, False),
    ("public_venue", "公共场所", 90, False),
]


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    kind = apps.get_model("establishments", "EstablishmentKind")
    for code, name, sort, school in KINDS:
        kind.objects.update_or_create(code=code, defaults={"name": name, "sort": sort, "is_school_like": school})


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("establishments", "EstablishmentKind").objects.filter(code__in=[k[0] for k in KINDS]).delete()


class Migration(migrations.Migration):
    dependencies = [("establishments", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
