"""The REST API's routes, in one table: what ``docs/openapi.yaml`` documents (a test keeps them equal)."""

from __future__ import annotations

import re
from typing import Any

API_PREFIX = "workbench/api"
ID = r"(?P<{}>[^/]+)"

# (pattern under /workbench/api/, handler class name)
ROUTES: list[tuple[str, str]] = [
    ("catalogue", "CatalogueSearchHandler"),
    (f"catalogue/{ID.format('dataset_id')}", "CatalogueEntryHandler"),
    ("requests", "RequestsHandler"),
    ("requests/mine", "MyRequestsHandler"),
    ("requests/to-decide", "RequestsToDecideHandler"),
    (f"requests/{ID.format('request_id')}/decision", "DecisionHandler"),
    ("projects", "ProjectsHandler"),
    (f"projects/{ID.format('project_id')}", "ProjectHandler"),
    (f"projects/{ID.format('project_id')}/outputs", "ProjectOutputsHandler"),
    (f"projects/{ID.format('project_id')}/output-requests", "OutputRequestsHandler"),
    (f"projects/{ID.format('project_id')}/output-requests/{ID.format('request_id')}/submit",
     "OutputRequestSubmitHandler"),
    (f"projects/{ID.format('project_id')}/output-requests/{ID.format('request_id')}/withdraw",
     "OutputRequestWithdrawHandler"),
    ("output-requests/mine", "MyOutputRequestsHandler"),
    (f"output-requests/{ID.format('request_id')}/package", "ReleasePackageHandler"),
    (f"output-requests/{ID.format('request_id')}/package/{ID.format('name')}", "ReleaseFileHandler"),
    ("review/queue", "ReviewQueueHandler"),
    ("review/history", "ReviewHistoryHandler"),
    (f"review/requests/{ID.format('request_id')}", "ReviewRequestHandler"),
    (f"review/requests/{ID.format('request_id')}/outputs/{ID.format('output_id')}/decision",
     "ReviewDecisionHandler"),
    (f"review/requests/{ID.format('request_id')}/conclusion", "ReviewConclusionHandler"),
    (f"review/requests/{ID.format('request_id')}/release", "ReviewReleaseHandler"),
    (f"review/requests/{ID.format('request_id')}/manifest", "ReviewManifestHandler"),
    ("owner/datasets", "MyDatasetsHandler"),
    ("owner/draft", "DraftHandler"),
    ("owner/register", "RegisterHandler"),
    (f"owner/usage/{ID.format('dataset_id')}", "OwnerUsageHandler"),
    (f"person-index/{ID.format('dataset_id')}/review", "IndexReviewHandler"),
    (f"person-index/{ID.format('dataset_id')}/review/decision", "IndexDecisionHandler"),
    ("admin/audit/verify", "AuditVerifyHandler"),
    (f"kernel/{ID.format('operation')}", "KernelCallHandler"),
]
FALLBACK = ".*"  # anything else under the prefix: a JSON 404


def handlers() -> list[tuple[str, Any]]:
    """(pattern, handler class) pairs, the documented routes first, then the JSON 404."""
    from workbench.server import handlers as h

    return [*((pattern, getattr(h, name)) for pattern, name in ROUTES), (FALLBACK, h.NotARouteHandler)]


def openapi_path(pattern: str) -> str:
    """``requests/(?P<request_id>[^/]+)/decision`` → ``/requests/{request_id}/decision``."""
    return "/" + re.sub(r"\(\?P<(\w+)>\[\^/\]\+\)", r"{\1}", pattern)
