"""Manager and partnership reports (issue 8): every figure counted from the records by set-based
SQL through the access policy, suppressed where the viewer may not see small numbers, drillable
to the people behind it, and exportable as CSV and XLSX."""
