"""Open data: OCDS 1.1 releases, records and a release-package feed for every published tender.

``facts.py`` reads a tender's public facts from the database, ``build.py`` turns them into OCDS
documents (pure), ``feed.py`` pages the feed by date (its cursor, pure), ``records.py`` joins the
two for callers (the API in ``api.py``, the tender archive), and ``schemas.py`` types the answers.
"""
