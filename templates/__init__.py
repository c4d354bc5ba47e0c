"""The bundled Jinja2 templates, installed as the package `tracker.templates` (see pyproject.toml);
loaded by tracker/templating.py."""
