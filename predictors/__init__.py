"""Weight-space predictors: the UNF core and predictors built on it."""
