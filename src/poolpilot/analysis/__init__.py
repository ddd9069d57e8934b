"""Analysis of stored runs: paired differences, the claims, sensitivity analysis."""
