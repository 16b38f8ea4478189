"""The Tiny RNN Zoo builder: task, model, training, archive."""
