"""The person index: one de-identified reference number per person across the catalogue's person-level
datasets, so that projects join granted datasets on a project-keyed ``person_id`` without running linkage."""
