"""Running a model: the Classifier, sliding windows, batches of files, events and exports."""
