"""Stage 2, the aggregator: decide at each window end which conversations are due, and flush each into one burst."""
