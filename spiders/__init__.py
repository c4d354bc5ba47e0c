"""Scrapy spiders, one per kind of source. Spiders only fetch and hand bytes to the pure parsers
in tracker/; they keep no local state (validators and cursors come from the database), so they
can run on Scrapyd workers as well as in `tracker crawl`."""
