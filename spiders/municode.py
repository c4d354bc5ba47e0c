"""CivicPlus Municode (Drupal) meetings pages (HTML): the page the watch names (`https://<city>/meetings`),
one conditional GET a run; it lists the upcoming meetings on one page, read as written."""

from __future__ import annotations

from spiders.listing import ListingSpider


class MunicodeSpider(ListingSpider):
    name = "municode"
    accept = "text/html"
