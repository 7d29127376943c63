"""django-import-export resources and file writers for donors and gifts."""
