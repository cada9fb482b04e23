"""``ws.catalogue`` in a notebook: the catalogue service plus its views (browser widget, coverage figure)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench.catalogue.service import Catalogue
from workbench.demo.material import DemoMaterial
from workbench.widgets.catalogue_browser import CatalogueBrowser
from workbench.widgets.figures import completeness_figure, coverage_figure

if TYPE_CHECKING:
    from workbench.context import Context
    from workbench.workspace import Workspace


class NotebookCatalogue(Catalogue):
    """Find, read and register datasets — and browse them: ``ws.catalogue.browse()``."""

    def __init__(self, ctx: Context, workspace: Workspace) -> None:
        super().__init__(ctx, truth=DemoMaterial(ctx))  # the person index measures itself where truth exists
        self._workspace = workspace

    def browse(self, *, page_size: int = 20) -> CatalogueBrowser:
        """An ipywidgets browser: search and filters, results page by page, an entry's detail and completeness,
        request access, the synthetic twin and load code."""
        return CatalogueBrowser(self._workspace, page_size=page_size)

    def coverage_figure(self) -> Any:
        """plotly heatmap: datasets by mission and department."""
        return coverage_figure(self.coverage())

    def completeness_figure(self, dataset_id: str) -> Any:
        """plotly bars: the share of values present in each column of a dataset, coloured by role."""
        return completeness_figure(self.get(dataset_id))
