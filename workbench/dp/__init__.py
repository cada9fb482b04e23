"""Differential privacy computed by the workbench: queries from a spec on governed data, a persistent budget.

``mechanisms`` holds the noise (diffprivlib's integer Geometric mechanism, its Exponential-mechanism quantile) and
the accuracy arithmetic; ``ledger`` the budgets and the atomic spend; ``queries`` the ``project.dp`` API.
"""
