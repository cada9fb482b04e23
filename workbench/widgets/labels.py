"""What the notebook widgets show people instead of codes: ``workbench.labels``, where the services' own HTML views
(requests, grants, projects, usage reports) find it too."""

from workbench.labels import (
           CODED,
           CODES,
           HEADERS,
           MISSING,
           code_label,
           date,
           header,
           number,
           percent,
           table_html,
           value,
)

__all__ = ["CODED", "CODES", "HEADERS", "MISSING", "code_label", "date", "header", "number", "percent", "table_html",
           "value"]
