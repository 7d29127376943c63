"""File-format readers: 全銀協 fixed-length records and mapped CSV statements.

Each reader returns a list of :class:`~donors.imports.readers.common.Transfer`
or raises :class:`~donors.imports.errors.ImportRefused` naming every bad row and
field; a reader never drops a row silently.
"""
