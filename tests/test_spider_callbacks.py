"""Scrapy's own check that no callback generator returns a value is off in the crawl's settings
(it read and parsed the callback's source again for every answer: tracker/crawl.py). The check
runs here instead, once, over every spider's methods."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from scrapy import Spider
from scrapy.utils.misc import is_generator_with_return_value

import spiders


def spider_classes() -> list[type[Spider]]:
    found = []
    for module in pkgutil.iter_modules(spiders.__path__):
        loaded = importlib.import_module(f"spiders.{module.name}")
        found += [value for value in vars(loaded).values()
                  if inspect.isclass(value) and issubclass(value, Spider) and value.__module__ == loaded.__name__]
    return found


def test_no_spider_callback_is_a_generator_returning_a_value() -> None:
    def returns_a_value():  # what Scrapy's check is for: the 2 is lost to the engine
        yield 1
        return 2

    assert is_generator_with_return_value(returns_a_value)
    classes = spider_classes()
    assert len(classes) >= 15  # every platform's spider
    generators = [(cls, name) for cls in classes for name, member in vars(cls).items()
                  if inspect.isgeneratorfunction(member) or inspect.isasyncgenfunction(member)]
    assert len(generators) >= 15
    assert [f"{cls.__name__}.{name}" for cls, name in generators
            if is_generator_with_return_value(getattr(cls, name))] == []
