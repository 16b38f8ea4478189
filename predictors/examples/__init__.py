"""Example user files: a predictor (``mean_abs.py``) and a submission writer."""
