"""Example user files: a predictor (``tensor_scales.py``), a submission writer
(``write_submission.py``) and a PyTorch predictor on the zoo's DataLoaders that
writes a submission (``torch_predictor.py``)."""
