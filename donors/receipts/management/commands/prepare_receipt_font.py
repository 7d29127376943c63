"""python manage.py prepare_receipt_font — build the cached receipt font now.

Receipts build it on first use (about 10-20 s, once per installation); run this
at deploy time so the first receipt a donor triggers is not the slow one.
"""

from django.core.management.base import BaseCommand

from donors.receipts.fonts import receipt_font_path


class Command(BaseCommand):
    help = "Prepare the receipt font (subset of Noto Serif JP) in the var/ cache."

    def handle(self, *args, **options):
        self.stdout.write(str(receipt_font_path()))
