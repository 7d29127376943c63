"""Ship two CSV profiles (a common bank layout and ゆうちょ) and sync role groups."""

from django.db import migrations

from kyosei.roles import sync_role_groups

PROFILES = [
    {
        "name": "bank-standard",
        "description": (
            "Common bank CSV (ネットバンキング入出金明細): 取引日 (YYYY/MM/DD), "
            "入金金額, 出金金額, 残高, 摘要, 振込依頼人名, 取引番号. CP932 or UTF-8."
        ),
        "method": "bank_transfer",
        "encoding": "auto",
        "date_column": "取引日",
        "date_format": "%Y/%m/%d",
        "credit_column": "入金金額",
        "debit_column": "出金金額",
        "payer_column": "振込依頼人名",
        "reference_column": "取引番号",
        "description_column": "摘要",
        "balance_column": "残高",
        "skip_keywords": "利息,ﾘｿｸ,リソク,手数料,ﾃｽｳﾘｮｳ,ﾃｽｳﾘﾖｳ",
    },
    {
        "name": "yucho",
        "description": (
            "ゆうちょ銀行 入出金明細 CSV: 取扱日付 (和暦 R06.04.01), 受入金額（円）, "
            "払出金額（円）, 詳細１ (取引の種類), 詳細２ (払込人), 現在高（円）. CP932."
        ),
        "method": "postal_transfer",
        "encoding": "cp932",
        "date_column": "取扱日付",
        "date_format": "wareki",
        "credit_column": "受入金額（円）",
        "debit_column": "払出金額（円）",
        "payer_column": "詳細２",
        "reference_column": "",
        "description_column": "詳細１",
        "balance_column": "現在高（円）",
        "skip_keywords": "利子,ﾘｼ,利息,料金,手数料",
    },
]


def add_profiles(apps, schema_editor):
    TransferProfile = apps.get_model("donor_imports", "TransferProfile")
    for profile in PROFILES:
        TransferProfile.objects.update_or_create(
            name=profile["name"], defaults=profile
        )


def remove_profiles(apps, schema_editor):
    TransferProfile = apps.get_model("donor_imports", "TransferProfile")
    TransferProfile.objects.filter(name__in=[p["name"] for p in PROFILES]).delete()


class Migration(migrations.Migration):
    dependencies = [("donor_imports", "0001_initial")]

    operations = [
        migrations.RunPython(add_profiles, remove_profiles),
        migrations.RunPython(sync_role_groups, migrations.RunPython.noop),
    ]
