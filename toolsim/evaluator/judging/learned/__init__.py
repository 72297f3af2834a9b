"""The learned judge: features, known verdicts, training and the shipped model."""
