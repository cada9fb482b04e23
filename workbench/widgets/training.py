"""``ws.training`` in a notebook: the training service plus the trainer's progress chart."""

from __future__ import annotations

from typing import Any

from workbench.training.service import Training


class NotebookTraining(Training):
    """Exercises and cohorts — and ``progress_figure(cohort)``: who solved what, at a glance."""

    def progress_figure(self, cohort_id: str) -> Any:
        """plotly heatmap of a cohort: trainees × assigned exercises, solved (green), tried (amber), not started."""
        import plotly.graph_objects as go

        progress = self.progress(cohort_id)
        people = sorted(set(progress["username"]))
        exercises = sorted(set(progress["exercise_id"]))
        cell = {(r.username, r.exercise_id): r for r in progress.itertuples()}
        z = [[2 if cell[(p, e)].solved else (1 if cell[(p, e)].attempts else 0) for e in exercises] for p in people]
        text = [[f"{cell[(p, e)].attempts} attempt(s)" for e in exercises] for p in people]
        figure = go.Figure(go.Heatmap(
            z=z, x=exercises, y=people, text=text, zmin=0, zmax=2, showscale=False,
            colorscale=[[0, "#e9ecef"], [0.5, "#ffc107"], [1, "#198754"]],
            hovertemplate="%{y}, %{x}: %{text}<extra></extra>"))
        solved = int(progress["solved"].sum())
        figure.update_layout(title=f"Cohort {cohort_id}: {solved} of {len(progress)} solved",
                             height=max(260, 30 * len(people) + 120), margin={"l": 120, "r": 20, "t": 60, "b": 60})
        return figure
