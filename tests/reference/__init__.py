"""External reference values, each with the call that produced it.

Values come from shared/reference/README.md (R pROC, scikit-learn,
statsmodels/binom) and from published tables, cited module by module.
"""
